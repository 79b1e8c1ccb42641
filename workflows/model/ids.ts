// Every name of a Docker or Postgres object the control plane makes. Pure JS (sha1 from @noble/hashes), so the
// planner can use it inside the workflow sandbox.
import { sha1 } from '@noble/hashes/legacy.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** First 8 chars of base36(sha1(hostId)), as the reference: host-1 → 689qacsi. */
export function hostHash(hostId: string): string {
  const digest = sha1(utf8ToBytes(hostId));
  let n = 0n;
  for (const b of digest) n = (n << 8n) | BigInt(b);
  return n.toString(36).slice(0, 8);
}

export const ids = {
  instance: (databaseId: string, nodeName: string, hostId: string) => `${databaseId}-${nodeName}-${hostHash(hostId)}`,
  volume: (instanceId: string) => `${instanceId}-data`,
  network: (databaseId: string) => `pgcp-${databaseId}`,
  /** Patroni cluster of one node; `--` cannot occur in a database id, so this never collides. */
  patroniScope: (databaseId: string, nodeName: string) => `${databaseId}--${nodeName}`,
  /** Subscription on `subscriber` receiving from `provider`: `sub_n1n3` lives on n1 and reads n3. */
  subscription: (subscriber: string, provider: string) => `sub_${subscriber}${provider}`,
  /** Temporal Schedule of one backup_config.schedules[] entry of a node. */
  backupSchedule: (databaseId: string, nodeName: string, scheduleId: string) => `backup-${databaseId}-${nodeName}-${scheduleId}`,
  /** Workflow id of the runs a backup schedule starts (each run then starts its node_backup task under a UUIDv7). */
  scheduledBackupRun: (backupScheduleId: string) => `scheduled-${backupScheduleId}`,
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
