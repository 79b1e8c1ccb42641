// update: converge the running database to its stored spec — existing nodes first (users, configuration), new
// nodes joined without downtime, removed nodes dropped, then the full mesh checked. The same spec again is safe:
// every step checks before it acts, and a node whose join failed is joined again from scratch.
import { patched } from '@temporalio/workflow';
import { planUpdate } from '../model/update-planner.js';
import { controlPlane, loadSpec } from '../proxies/activities.js';
import { runPlan } from '../runner/plan-runner.js';
import { runDatabaseTask, type DatabaseTaskInput } from '../task/task-bracket.js';

export async function updateDatabase({ databaseId, removeHosts }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, 'available', async () => {
    const spec = await loadSpec(databaseId);
    const layout = await controlPlane.getDatabaseLayout({ databaseId });
    await runPlan(databaseId, spec, planUpdate(databaseId, layout, spec, removeHosts, { rolling: patched('rolling-node-update') }), 'modifying');
  });
}
