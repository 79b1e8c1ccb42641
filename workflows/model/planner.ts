// Pure: desired spec → ordered waves of steps. Steps inside a wave are independent and run in parallel; each step
// names the host whose queue runs it. The same plan serves create and converge-by-update, and its text is what the
// task log shows before anything runs.
import { nodeBackupConfig } from './backup.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { ids } from './ids.js';
import { planInstances, type InstancePlan } from './instances.js';
import { planServiceInstances } from './services.js';

/** A service instance that runs (its record): a service on a host. */
export interface ServiceOnHost { serviceId: string; hostId: string }

/**
 * Services last, once every node is in place (pgEdge plans them in the end state): instances no longer in the spec
 * go, then every instance of the spec is made or kept and waited for. An unchanged one is left as it is.
 */
export function serviceWaves(databaseId: string, spec: DatabaseSpec, current: ServiceOnHost[]): Step[][] {
  const desired = planServiceInstances(databaseId, spec);
  const stale = current.filter((c) => !desired.some((d) => d.serviceId === c.serviceId && d.hostId === c.hostId));
  const postgrest = (spec.services ?? []).filter((s) => s.service_type === 'postgrest').map((s) => s.service_id);
  const rag = (spec.services ?? []).filter((s) => s.service_type === 'rag').map((s) => s.service_id);
  const instances = postgrest.length || rag.length ? planInstances(databaseId, spec) : [];
  const nodes = spec.nodes.map((n) => n.name);
  return [
    stale.map((c) => ({ kind: 'removeService', ...c })),
    [
      ...postgrest.map((serviceId): Step => ({ kind: 'servicePreflight', hostId: nodeHost(instances, nodes[0]!), serviceId, nodeName: nodes[0]! })),
      ...rag.map((serviceId): Step => ({ kind: 'ragPreflight', hostId: nodeHost(instances, nodes[0]!), serviceId, nodeName: nodes[0]! })),
    ],
    postgrest.flatMap((serviceId) => nodes.map((n): Step => ({ kind: 'serviceRoles', hostId: nodeHost(instances, n), serviceId, nodeName: n }))),
    desired.map((d) => ({ kind: 'service', hostId: d.hostId, serviceId: d.serviceId })),
    desired.map((d) => ({ kind: 'waitService', hostId: d.hostId, serviceId: d.serviceId })),
  ];
}

/** A node and the host whose queue runs its Postgres steps (the host of its first instance). */
export interface NodeOnHost { name: string; hostId: string }
/** An instance of a node and the host it runs on (what the store records of it). */
export interface InstanceOnHost { instanceId: string; hostId: string; nodeName: string }

export type Step =
  | { kind: 'network'; hostId: string }
  | { kind: 'instance'; hostId: string; instanceId: string; nodeName: string }
  | { kind: 'waitInstance'; hostId: string; instanceId: string; nodeName: string }
  /** scripts: the spec's creation scripts run there (a database being created; never a node added later) */
  | { kind: 'nodeDatabase'; hostId: string; nodeName: string; joining?: boolean; scripts?: boolean }
  | { kind: 'checkUsers'; hostId: string; nodeName: string }
  | { kind: 'applyConfig'; hostId: string; nodeName: string }
  | { kind: 'resetNode'; nodeName: string; instances: InstanceOnHost[]; peers: NodeOnHost[] }
  /** fromBackup: the new node's primary is restored from a backup of the source to just before its slot there */
  | { kind: 'joinNode'; hostId: string; nodeName: string; source: NodeOnHost; peers: NodeOnHost[]; fromBackup?: { instanceId: string; sourceDatabaseName: string } }
  | { kind: 'removeNode'; nodeName: string; instances: InstanceOnHost[]; remaining: NodeOnHost[]; forgotten?: string[] }
  | { kind: 'markJoined'; nodeNames: string[] }
  | { kind: 'subscription'; hostId: string; subscriber: string; provider: string; name: string; fromSlot?: boolean }
  | { kind: 'waitReplication'; hostId: string; nodeName: string; subscriptions: string[] }
  | { kind: 'protectSlots'; hostId: string; nodeName: string }
  | { kind: 'backupStanza'; hostId: string; nodeName: string }
  | { kind: 'restoredNode'; hostId: string; nodeName: string; sourceDatabaseName: string }
  | { kind: 'removeReplica'; hostId: string; instanceId: string; nodeName: string; gone?: boolean }
  | { kind: 'removeInstance'; hostId: string; instanceId: string; nodeName: string }
  | { kind: 'removeNetwork'; hostId: string }
  /** a supporting service's instance on a host: its container made or kept, then waited for until healthy */
  | { kind: 'service'; hostId: string; serviceId: string }
  | { kind: 'waitService'; hostId: string; serviceId: string }
  /** gone: its host left the cluster with its agent silent — only its record is forgotten */
  | { kind: 'removeService'; hostId: string; serviceId: string; gone?: boolean }
  /** PostgREST: its schemas and anon role exist (first node); its authenticator set up (each node) */
  | { kind: 'servicePreflight'; hostId: string; serviceId: string; nodeName: string }
  | { kind: 'serviceRoles'; hostId: string; serviceId: string; nodeName: string }
  /** RAG: connect_as and the tables its pipelines name (columns, the vector column's type) exist (first node) */
  | { kind: 'ragPreflight'; hostId: string; serviceId: string; nodeName: string }
  /**
   * A running node converged instance by instance: any member whose container must be made again (port, resources,
   * image, orchestrator_opts) is, replicas first, then a switchover, then the old primary — the node keeps a primary
   * throughout; then the replicas of hosts added to it.
   */
  | { kind: 'rollNode'; hostId: string; nodeName: string; existing: InstanceOnHost[]; added: InstanceOnHost[] };

export interface Plan { waves: Step[][] }

/** The host whose queue runs a node's Postgres steps: the host of its first instance. */
export function nodeHost(instances: InstancePlan[], nodeName: string): string {
  return instances.find((i) => i.nodeName === nodeName)!.hostId;
}

/** Every node from scratch (create, or an update of a database none of whose nodes has finished joining). */
export function planConverge(databaseId: string, spec: DatabaseSpec, stale: InstanceOnHost[] = [], services: ServiceOnHost[] = []): Plan {
  const instances = planInstances(databaseId, spec);
  const nodes = spec.nodes.map((n) => n.name);
  const primaries = instances.filter((i) => i.initialRole === 'primary');
  const replicas = instances.filter((i) => i.initialRole === 'replica');
  const instanceStep = (i: InstancePlan, kind: 'instance' | 'waitInstance'): Step => ({ kind, hostId: i.hostId, instanceId: i.instanceId, nodeName: i.nodeName });
  const hosts = [...new Set(instances.map((i) => i.hostId))];
  const waves: Step[][] = [
    stale.map((i) => ({ kind: 'removeInstance', ...i })),
    // One host after the other: hosts may share a Docker engine, and two racing creates make two networks of one name.
    ...hosts.map((h): Step[] => [{ kind: 'network', hostId: h }]),
    primaries.map((i) => instanceStep(i, 'instance')),
    primaries.map((i) => instanceStep(i, 'waitInstance')),
    replicas.map((i) => instanceStep(i, 'instance')),
    replicas.map((i) => instanceStep(i, 'waitInstance')),
    // created from a backup: each node holds the backup's data, under the backup's names and replication catalog
    spec.restore_config ? nodes.map((n) => ({ kind: 'restoredNode', hostId: nodeHost(instances, n), nodeName: n, sourceDatabaseName: spec.restore_config!.source_database_name })) : [],
    nodes.map((n) => ({ kind: 'nodeDatabase', hostId: nodeHost(instances, n), nodeName: n, ...(hasScripts(spec) ? { scripts: true } : {}) })),
    ...meshWaves(instances, nodes),
    ...backupWaves(spec, instances),
    [{ kind: 'markJoined', nodeNames: nodes }],
    ...serviceWaves(databaseId, spec, services),
  ];
  return { waves: waves.filter((w) => w.length > 0) };
}

/** Whether the spec has creation scripts (pgEdge §5.1) to run. */
export function hasScripts(spec: DatabaseSpec): boolean {
  return (spec.scripts?.post_init?.length ?? 0) + (spec.scripts?.post_database_create?.length ?? 0) > 0;
}

/**
 * The full mesh among `nodes`: every subscription ensured (across majors from a slot made first: the subscriber's
 * pglogical may ask the provider for its slot in a syntax the provider refuses), then every node replicating.
 */
export function meshWaves(instances: InstancePlan[], nodes: string[]): Step[][] {
  const majorOf = (n: string) => instances.find((i) => i.nodeName === n)!.postgresMajor;
  const subscriptions = nodes.flatMap((subscriber) => nodes.filter((p) => p !== subscriber).map((provider) => ({ subscriber, provider, name: ids.subscription(subscriber, provider) })));
  return [
    subscriptions.map((s) => ({ kind: 'subscription', hostId: nodeHost(instances, s.subscriber), ...s, ...(majorOf(s.subscriber) !== majorOf(s.provider) ? { fromSlot: true } : {}) })),
    nodes.length > 1
      ? nodes.map((n) => ({ kind: 'waitReplication', hostId: nodeHost(instances, n), nodeName: n, subscriptions: subscriptions.filter((s) => s.subscriber === n).map((s) => s.name) }))
      : [],
    // Subscribers follow a primary change only if their slots are on the replicas too.
    nodes.length > 1
      ? nodes.filter((n) => instances.filter((i) => i.nodeName === n).length > 1).map((n) => ({ kind: 'protectSlots', hostId: nodeHost(instances, n), nodeName: n }))
      : [],
  ];
}

/** Nodes with a backup_config: their stanza, once their primary runs and archives WAL. */
export function backupWaves(spec: DatabaseSpec, instances: InstancePlan[]): Step[][] {
  const nodes = spec.nodes.map((n) => n.name).filter((n) => nodeBackupConfig(spec, n));
  return nodes.length ? [nodes.map((n) => ({ kind: 'backupStanza', hostId: nodeHost(instances, n), nodeName: n }))] : [];
}

/** Removes every service instance, every instance (data included) and then each host's database network. */
export function planRemoveAll(instances: { instanceId: string; hostId: string; nodeName: string }[], services: ServiceOnHost[] = []): Plan {
  const hosts = [...new Set([...instances.map((i) => i.hostId), ...services.map((s) => s.hostId)])];
  const waves: Step[][] = [
    services.map((s) => ({ kind: 'removeService', ...s })),
    instances.map((i) => ({ kind: 'removeInstance', hostId: i.hostId, instanceId: i.instanceId, nodeName: i.nodeName })),
    hosts.map((h) => ({ kind: 'removeNetwork', hostId: h })),
  ];
  return { waves: waves.filter((w) => w.length > 0) };
}

/** One line per step, as the task log shows it. */
export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'network': return `creating the database network on ${s.hostId}`;
    case 'instance': return `creating instance ${s.instanceId} (node ${s.nodeName}) on ${s.hostId}`;
    case 'waitInstance': return `waiting for instance ${s.instanceId} to run Postgres`;
    case 'nodeDatabase': return s.joining
      ? `creating database and users on new node ${s.nodeName}`
      : `creating database, users and replication node on node ${s.nodeName}${s.scripts ? ', with the creation scripts' : ''}`;
    case 'checkUsers': return `checking that users to remove own nothing on node ${s.nodeName}`;
    case 'applyConfig': return `applying postgresql_conf, pg_hba_conf and pg_ident_conf to node ${s.nodeName} through Patroni`;
    case 'resetNode': return `clearing what an earlier attempt left of node ${s.nodeName}`;
    case 'joinNode': return s.fromBackup
      ? `adding node ${s.nodeName} from a backup of node ${s.source.name}: slots first on ${[s.source, ...s.peers].map((p) => p.name).join(', ')}, then the backup restored up to node ${s.source.name}'s slot`
      : `adding node ${s.nodeName} without downtime: copy from ${s.source.name}${s.peers.length ? `, slots first on ${s.peers.map((p) => p.name).join(', ')}` : ''}`;
    case 'removeNode': return `removing node ${s.nodeName}: subscriptions and slots on ${s.remaining.map((p) => p.name).join(', ') || 'no other node'}, then its instances and data`;
    case 'markJoined': return `recording node${s.nodeNames.length > 1 ? 's' : ''} ${s.nodeNames.join(', ')} as replicating`;
    case 'subscription': return `subscribing node ${s.subscriber} to node ${s.provider} (${s.name}${s.fromSlot ? ', from a slot made first' : ''})`;
    case 'waitReplication': return `waiting for node ${s.nodeName} to replicate from its peers (${s.subscriptions.join(', ')})`;
    case 'restoredNode': return `renaming ${s.sourceDatabaseName} as needed and making node ${s.nodeName}'s replication node anew on the restored data`;
    case 'backupStanza': return `creating and checking the pgBackRest stanza of node ${s.nodeName}`;
    case 'protectSlots': return `making node ${s.nodeName}'s logical slots permanent in Patroni and waiting for its replicas to hold them`;
    case 'removeReplica': return s.gone
      ? `forgetting instance ${s.instanceId} of node ${s.nodeName} (its host ${s.hostId} is gone)`
      : `removing instance ${s.instanceId} from node ${s.nodeName} on ${s.hostId} (a switchover first if it is the primary)`;
    case 'removeInstance': return `removing instance ${s.instanceId} and its data on ${s.hostId}`;
    case 'removeNetwork': return `removing the database network on ${s.hostId}`;
    case 'service': return `creating or updating service ${s.serviceId} on ${s.hostId}`;
    case 'waitService': return `waiting for service ${s.serviceId} on ${s.hostId} to be healthy`;
    case 'removeService': return s.gone ? `forgetting service ${s.serviceId}'s instance on ${s.hostId} (its host is gone)` : `removing service ${s.serviceId} from ${s.hostId}`;
    case 'servicePreflight': return `checking service ${s.serviceId}'s schemas and anon role on node ${s.nodeName}`;
    case 'ragPreflight': return `checking service ${s.serviceId}'s role and pipeline tables on node ${s.nodeName}`;
    case 'serviceRoles': return `setting up service ${s.serviceId}'s authenticator role on node ${s.nodeName}`;
    case 'rollNode': return `converging node ${s.nodeName}'s instances ${s.existing.map((i) => i.instanceId).join(', ')}: any to make again one at a time, replicas first, then a switchover and the old primary${s.added.length ? `; then new replica${s.added.length > 1 ? 's' : ''} ${s.added.map((i) => i.instanceId).join(', ')}` : ''}`;
  }
}

export function planLines(plan: Plan): string[] {
  return [
    `plan: ${plan.waves.reduce((n, w) => n + w.length, 0)} steps in ${plan.waves.length} phases`,
    ...plan.waves.map((w, i) => `phase ${i + 1}: ${w.map(describeStep).join('; ')}`),
  ];
}
