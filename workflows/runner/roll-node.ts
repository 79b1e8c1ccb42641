// A running node converged without losing its primary (pgEdge §8.3, internals §2.5): the members whose containers
// must be made again (a new port, resources, image or orchestrator_opts) are, one at a time — replicas first, then
// a switchover away from the primary, then the old primary — each waited for before the next. A node of one
// instance has no one to hand over to: it is made again in place (its peers keep taking writes).
import type { InstanceOnHost, Step } from '../model/planner.js';
import { onHost } from '../proxies/activities.js';
import { handOverNode } from '../procedures/hand-over.js';
import { waitInstance } from './wait-instance.js';

type RollStep = Extract<Step, { kind: 'rollNode' }>;

export async function rollNode(databaseId: string, step: RollStep): Promise<void> {
  const { nodeName, existing, added } = step;
  const converge = async (i: InstanceOnHost, what: string) => {
    await onHost(i.hostId, `${what} instance ${i.instanceId} (node ${nodeName}) on ${i.hostId}`).ensureInstance({ databaseId, instanceId: i.instanceId });
    await waitInstance(databaseId, { ...i, nodeName }, `waiting for instance ${i.instanceId} to run Postgres`);
  };
  const drifted = await Promise.all(existing.map((i) => onHost(i.hostId, `checking whether instance ${i.instanceId}'s container must be made again`)
    .instanceDrifted({ databaseId, instanceId: i.instanceId })));
  const remake = new Set(existing.filter((_, k) => drifted[k]).map((i) => i.instanceId));
  if (remake.size === 0) {
    await Promise.all(existing.map((i) => converge(i, 'checking')));
  } else {
    const leader = await onHost(step.hostId, `finding node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
    const verb = (i: InstanceOnHost) => (remake.has(i.instanceId) ? 'making again (data kept)' : 'checking');
    for (const i of existing.filter((x) => x.instanceId !== leader)) await converge(i, verb(i));
    const primary = existing.find((x) => x.instanceId === leader);
    if (primary) {
      if (remake.has(primary.instanceId) && existing.length > 1) await handOverNode({ databaseId, nodeName, hostId: primary.hostId }, 'switchover');
      await converge(primary, verb(primary));
    }
    // a primary made again on a newer minor may gate output plugins: the peers' walsenders must be allowed again
    await onHost(step.hostId, `allowing the replication output plugin on node ${nodeName}'s primary`).allowOutputPlugin({ databaseId, nodeName });
  }
  await Promise.all(added.map((i) => converge(i, 'creating')));
}
