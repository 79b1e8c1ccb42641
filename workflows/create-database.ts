// create: a new database from its spec — instances, databases and users, full mesh of subscriptions.
import { ApplicationFailure } from '@temporalio/workflow';
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import { planInstances } from './model/instances.js';
import { planConverge, planLines, type Plan } from './model/planner.js';
import { controlPlane, executePlan } from './steps.js';
import { runDatabaseTask, type DatabaseTaskInput } from './task.js';

export async function loadSpec(databaseId: string): Promise<DatabaseSpec> {
  const spec = await controlPlane.getDatabaseSpec({ databaseId });
  if (!spec) throw ApplicationFailure.nonRetryable(`database ${databaseId} not found`, 'NotFound');
  return spec;
}

/** Records the plan (the task log shows it first) and the desired instances, then runs it. */
export async function runPlan(databaseId: string, spec: DatabaseSpec, plan: Plan, state: 'creating' | 'modifying', before?: () => Promise<unknown>): Promise<void> {
  await controlPlane.recordPlan({ lines: planLines(plan) });
  await controlPlane.recordInstances({
    databaseId,
    instances: planInstances(databaseId, spec).map((i) => ({ id: i.instanceId, nodeName: i.nodeName, hostId: i.hostId })),
    state,
  });
  await before?.();
  await executePlan(databaseId, plan);
  await controlPlane.syncBackupSchedules({ databaseId }); // the spec's backup schedules, now that its stanzas exist
}

export async function createDatabase({ databaseId }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, 'available', async () => {
    const spec = await loadSpec(databaseId);
    // A new database must not meet a deleted one's Patroni keys (same id, same node names).
    await runPlan(databaseId, spec, planConverge(databaseId, spec), 'creating',
      () => controlPlane.clearNodeDcs({ databaseId, nodeNames: spec.nodes.map((n) => n.name) }));
  });
}
