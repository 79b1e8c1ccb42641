// create: a new database from its spec — instances, databases and users, full mesh of subscriptions.
import { planConverge } from '../model/planner.js';
import { controlPlane, loadSpec } from '../proxies/activities.js';
import { runPlan } from '../runner/plan-runner.js';
import { runDatabaseTask, type DatabaseTaskInput } from '../task/task-bracket.js';

export async function createDatabase({ databaseId }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, 'available', async () => {
    const spec = await loadSpec(databaseId);
    // A new database must not meet a deleted one's Patroni keys (same id, same node names).
    await runPlan(databaseId, spec, planConverge(databaseId, spec), 'creating',
      () => controlPlane.clearNodeDcs({ databaseId, nodeNames: spec.nodes.map((n) => n.name) }));
  });
}
