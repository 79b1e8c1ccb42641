// Every generated name of an object the control plane makes: Docker containers, volumes, networks and label keys;
// Postgres subscriptions; Patroni scopes and their etcd keys; the pgBackRest stanza; Temporal task queues,
// schedules and workflow ids. Pure JS (sha1 from @noble/hashes, no Node imports), so the planner can use it inside
// the workflow sandbox. (Names the replication drivers give their slots and interfaces are theirs.)
import { sha1 } from '@noble/hashes/legacy.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** First 8 chars of base36(sha1(hostId)), as the reference: host-1 → 689qacsi. */
export function hostHash(hostId: string): string {
  const digest = sha1(utf8ToBytes(hostId));
  let n = 0n;
  for (const b of digest) n = (n << 8n) | BigInt(b);
  return n.toString(36).slice(0, 8);
}

/** Prefix of every Docker label key the control plane sets. */
export const labelPrefix = 'pgcp';

/** Docker label keys: what every managed container, volume and network carries. */
export const labels = {
  managed: `${labelPrefix}.managed`,
  purpose: `${labelPrefix}.purpose`,
  databaseId: `${labelPrefix}.database-id`,
  instanceId: `${labelPrefix}.instance-id`,
  hostId: `${labelPrefix}.host-id`,
  nodeName: `${labelPrefix}.node-name`,
  specHash: `${labelPrefix}.spec-hash`,
  /** A one-off container's run: the task whose step started it, so a retry of that step joins it (one-off.ts). */
  runKey: `${labelPrefix}.run-key`,
  /** The Temporal namespace whose workflow made the object: tests sweep theirs by it. */
  namespace: `${labelPrefix}.namespace`,
} as const;

/** Patroni's namespace in etcd (its `namespace` setting): every node's keys are under it. */
const patroniNamespace = '/pgcp/';
const patroniScope = (databaseId: string, nodeName: string) => `${databaseId}--${nodeName}`;
const backupSchedulePrefix = (databaseId: string) => `backup-${databaseId}-`;

export const ids = {
  instance: (databaseId: string, nodeName: string, hostId: string) => `${databaseId}-${nodeName}-${hostHash(hostId)}`,
  volume: (instanceId: string) => `${instanceId}-data`,
  network: (databaseId: string) => `pgcp-${databaseId}`,
  /** The one-off container that restores an instance's volume with pgBackRest while the instance is stopped. */
  restoreContainer: (instanceId: string) => `${instanceId}-restore`,
  /** The one-off container that looks for a task's restore marker in an instance's volume (never the restore's own). */
  restoreMarkerContainer: (instanceId: string) => `${instanceId}-restore-marker`,
  /** The one-off container that reads a restore source's backups before anything is stopped. */
  restoreCheckContainer: (instanceId: string) => `${instanceId}-restore-check`,
  /** The throw-away container verifying an image: one per workflow and major, so a retry replaces its predecessor's. */
  verifyContainer: (workflowId: string, major: string) => `pgcp-verify-${workflowId.replace(/[^a-zA-Z0-9_.-]/g, '').slice(-12)}-${major}`,
  /** Patroni cluster of one node; `--` cannot occur in a database id, so this never collides. */
  patroniScope,
  patroniNamespace,
  /**
   * The etcd key prefix of every node of one database: its Patroni's etcd role may use these keys only. `--` ends
   * the database id (it cannot occur in one), so database `a`'s prefix never covers `a-b`'s keys.
   */
  patroniDatabaseKeys: (databaseId: string) => `${patroniNamespace}${databaseId}--`,
  /** The etcd key prefix of one node's Patroni cluster. */
  patroniKeys: (databaseId: string, nodeName: string) => `${patroniNamespace}${patroniScope(databaseId, nodeName)}/`,
  /** The pgBackRest stanza of every node (each node has its own repository path, so one name serves all). */
  stanza: 'db',
  /** Subscription on `subscriber` receiving from `provider`: `sub_n1n3` lives on n1 and reads n3. */
  subscription: (subscriber: string, provider: string) => `sub_${subscriber}${provider}`,
  /** Temporal Schedule of one backup_config.schedules[] entry of a node. */
  backupSchedule: (databaseId: string, nodeName: string, scheduleId: string) => `${backupSchedulePrefix(databaseId)}${nodeName}-${scheduleId}`,
  /** What the ids of a database's backup schedules start with. */
  backupSchedulePrefix,
  /** Workflow id of the runs a backup schedule starts (each run then starts its node_backup task under a UUIDv7). */
  scheduledBackupRun: (backupScheduleId: string) => `scheduled-${backupScheduleId}`,
  /** Temporal task queue of the control plane's workflows and activities. */
  controlPlaneTaskQueue: 'control-plane',
  /** Temporal task queue of one host's activities. */
  hostTaskQueue: (hostId: string) => `host.${hostId}`,
} as const;

/** Digits of `nN`, the node ordinal. */
export function nodeOrdinal(nodeName: string): number {
  const m = /(\d+)/.exec(nodeName);
  return m ? Number(m[1]) : 0;
}

/**
 * A UUIDv7 from a millisecond time and 20 hex digits of randomness (Temporal's deterministic uuid4 in a workflow),
 * so a task a workflow starts sorts with the others by creation time.
 */
export function uuidv7At(ms: number, randomHex: string): string {
  const r = randomHex.replace(/[^0-9a-f]/g, '').padEnd(20, '0');
  const hex = `${ms.toString(16).padStart(12, '0')}7${r.slice(0, 3)}${((parseInt(r[3]!, 16) & 0x3) | 0x8).toString(16)}${r.slice(4, 19)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
