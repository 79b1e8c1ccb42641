// Pure: (what runs now, desired spec) → the ordered steps of an update. Existing nodes converge first (users,
// configuration), then removed nodes go (the reference removes last; here first, so a node joining meanwhile
// never misses what a leaving node still writes), then new nodes join one at a time, then the full mesh of
// subscriptions is checked. A node counts as existing once it has finished joining (`joined`).
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { ids } from './ids.js';
import { planInstances, type InstancePlan } from './instances.js';
import { backupWaves, meshWaves, nodeHost, planConverge, serviceWaves, type InstanceOnHost, type NodeOnHost, type Plan, type ServiceOnHost, type Step } from './planner.js';

export interface CurrentLayout {
  /** Nodes that finished joining (or were created with the database), in the order they joined. */
  joined: string[];
  /** Instance records, including those of nodes the spec no longer names. */
  instances: InstanceOnHost[];
  /** Service instance records (absent in histories recorded before services existed). */
  serviceInstances?: ServiceOnHost[];
}

const instanceStep = (i: InstancePlan, kind: 'instance' | 'waitInstance'): Step => ({ kind, hostId: i.hostId, instanceId: i.instanceId, nodeName: i.nodeName });

export interface UpdatePlanOptions {
  /**
   * Running nodes converge one at a time by rollNode steps (replicas, switchover, old primary), instead of every
   * instance at once. Off only to replay histories recorded before it existed.
   */
  rolling?: boolean;
}

export function planUpdate(databaseId: string, current: CurrentLayout, spec: DatabaseSpec, removeHosts: string[] = [], o: UpdatePlanOptions = { rolling: true }): Plan {
  const plan = planUpdateSteps(databaseId, current, spec, o.rolling ?? true);
  return removeHosts.length === 0 ? plan : withoutHosts(plan, new Set(removeHosts));
}

/**
 * ?remove_host=: those hosts are gone. Nothing runs on them; a removed node's instances there are only forgotten
 * (records, Patroni keys), and the remaining nodes still drop their links to it.
 */
function withoutHosts(plan: Plan, gone: Set<string>): Plan {
  const keep = (s: Step): Step | null => {
    if (s.kind === 'removeNode' || s.kind === 'resetNode') {
      const instances = s.instances.filter((i) => !gone.has(i.hostId));
      const lost = s.instances.filter((i) => gone.has(i.hostId)).map((i) => i.instanceId);
      return s.kind === 'removeNode'
        ? { ...s, instances, remaining: s.remaining.filter((r) => !gone.has(r.hostId)), forgotten: lost }
        : { ...s, instances, peers: s.peers.filter((r) => !gone.has(r.hostId)) };
    }
    // a replica dropped from host_ids on a gone host: only its record goes
    if (s.kind === 'removeReplica' && gone.has(s.hostId)) return { ...s, gone: true };
    // a service instance on a gone host: only its record goes
    if (s.kind === 'removeService' && gone.has(s.hostId)) return { ...s, gone: true };
    return 'hostId' in s && gone.has(s.hostId) ? null : s;
  };
  return { waves: plan.waves.map((w) => w.map(keep).filter((s): s is Step => s !== null)).filter((w) => w.length > 0) };
}

function planUpdateSteps(databaseId: string, current: CurrentLayout, spec: DatabaseSpec, rolling: boolean): Plan {
  const desired = planInstances(databaseId, spec);
  const stale = current.instances.filter((r) => !desired.some((d) => d.instanceId === r.instanceId));
  const joined = spec.nodes.map((n) => n.name).filter((n) => current.joined.includes(n));
  if (joined.length === 0) return planConverge(databaseId, spec, stale, current.serviceInstances ?? []); // nothing runs yet: build it all

  const ref = (name: string): NodeOnHost => ({ name, hostId: nodeHost(desired, name) });
  const added = spec.nodes.map((n) => n.name).filter((n) => !joined.includes(n));
  // Gone from the spec: joined nodes, and nodes whose join never finished (their slots and links must go too).
  const recorded = [...current.joined, ...current.instances.map((i) => i.nodeName)];
  const removed = [...new Set(recorded)].filter((n) => !spec.nodes.some((s) => s.name === n));
  const staleOfKept = stale.filter((i) => !removed.includes(i.nodeName));
  const existing = desired.filter((i) => joined.includes(i.nodeName));
  const hosts = [...new Set(desired.map((i) => i.hostId))];
  const sourceOf = (n: string) => spec.nodes.find((s) => s.name === n)?.source_node ?? joined[0]!;

  const waves: Step[][] = [
    joined.map((n) => ({ kind: 'checkUsers', ...host(ref(n)), nodeName: n })),
    ...hosts.map((h): Step[] => [{ kind: 'network', hostId: h }]),
    ...(rolling ? rollWaves(joined, existing, current) : [existing.map((i) => instanceStep(i, 'instance')), existing.map((i) => instanceStep(i, 'waitInstance'))]),
    // Replicas dropped from host_ids go once the new ones run: the primary role may have to move to one of them.
    staleOfKept.map((i) => ({ kind: 'removeReplica', ...i })),
    joined.map((n) => ({ kind: 'applyConfig', ...host(ref(n)), nodeName: n })),
    joined.map((n) => ({ kind: 'nodeDatabase', ...host(ref(n)), nodeName: n })),
  ];
  // Removed nodes go first: a node joining meanwhile would not hear what they still write.
  for (const r of removed) {
    waves.push([{ kind: 'removeNode', nodeName: r, instances: current.instances.filter((i) => i.nodeName === r), remaining: joined.map(ref) }]);
  }
  const members = [...joined];
  for (const n of added) {
    const mine = desired.filter((i) => i.nodeName === n);
    // From a backup: the backup's node is the source, and the replicas follow the restored primary.
    const restore = spec.nodes.find((s) => s.name === n)?.restore_config;
    const source = restore?.source_node_name ?? sourceOf(n);
    const others = members.filter((m) => m !== source).map(ref);
    const primary = mine.find((i) => i.initialRole === 'primary')!;
    const replicaWaves: Step[][] = [
      mine.filter((i) => i.initialRole === 'replica').map((i) => instanceStep(i, 'instance')),
      mine.filter((i) => i.initialRole === 'replica').map((i) => instanceStep(i, 'waitInstance')),
    ];
    waves.push(
      [{ kind: 'resetNode', nodeName: n, instances: mine.map(({ instanceId, hostId, nodeName }) => ({ instanceId, hostId, nodeName })), peers: members.map(ref) }],
      [instanceStep(primary, 'instance')],
      [instanceStep(primary, 'waitInstance')],
      ...(restore ? [] : replicaWaves),
      [{ kind: 'nodeDatabase', ...host(ref(n)), nodeName: n, joining: true }],
      [{ kind: 'joinNode', ...host(ref(n)), nodeName: n, source: ref(source), peers: others, ...(restore ? { fromBackup: { instanceId: primary.instanceId, sourceDatabaseName: restore.source_database_name } } : {}) }],
      ...(restore ? replicaWaves : []),
      members.map((m) => ({ kind: 'subscription', ...host(ref(m)), subscriber: m, provider: n, name: ids.subscription(m, n), fromSlot: true })),
      [{ kind: 'markJoined', nodeNames: [n] }],
    );
    members.push(n);
  }
  waves.push(...meshWaves(desired, spec.nodes.map((n) => n.name)), ...backupWaves(spec, desired), ...serviceWaves(databaseId, spec, current.serviceInstances ?? []));
  return { waves: waves.filter((w) => w.length > 0) };
}

const host = (r: NodeOnHost) => ({ hostId: r.hostId });

/** One node after the other (pgEdge's RollingUpdateNodes): a node's instances that ran before, then its new ones. */
function rollWaves(joined: string[], desired: InstancePlan[], current: CurrentLayout): Step[][] {
  const on = ({ instanceId, hostId, nodeName }: InstancePlan): InstanceOnHost => ({ instanceId, hostId, nodeName });
  const ran = (i: InstancePlan) => current.instances.some((r) => r.instanceId === i.instanceId);
  return joined.map((n): Step[] => {
    const mine = desired.filter((i) => i.nodeName === n);
    // its steps run where a member already runs (a host just added to host_ids has nothing yet)
    return [{ kind: 'rollNode', hostId: (mine.find(ran) ?? mine[0]!).hostId, nodeName: n, existing: mine.filter(ran).map(on), added: mine.filter((i) => !ran(i)).map(on) }];
  });
}
