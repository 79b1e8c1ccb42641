// create: a new database from its spec — instances, databases and users, full mesh of subscriptions.
import { ApplicationFailure } from '@temporalio/workflow';
import { planInstances } from './model/instances.js';
import { planConverge, planLines } from './model/planner.js';
import { controlPlane, executePlan } from './steps.js';
import { runDatabaseTask, type DatabaseTaskInput } from './task.js';

export async function convergeDatabase(databaseId: string, fresh: boolean): Promise<void> {
  const spec = await controlPlane.getDatabaseSpec({ databaseId });
  if (!spec) throw ApplicationFailure.nonRetryable(`database ${databaseId} not found`, 'NotFound');
  const instances = planInstances(databaseId, spec);
  const plan = planConverge(databaseId, spec);
  await controlPlane.recordPlan({ lines: planLines(plan) });
  await controlPlane.recordInstances({
    databaseId,
    instances: instances.map((i) => ({ id: i.instanceId, nodeName: i.nodeName, hostId: i.hostId })),
    state: fresh ? 'creating' : 'modifying',
  });
  // A new database must not meet a deleted one's Patroni keys (same id, same node names).
  if (fresh) await controlPlane.clearNodeDcs({ databaseId, nodeNames: spec.nodes.map((n) => n.name) });
  await executePlan(databaseId, plan);
}

export async function createDatabase({ databaseId }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, 'available', () => convergeDatabase(databaseId, true));
}
