// delete: every instance with its data, the database networks, Patroni's keys, then the record and the backup
// schedules. Tasks and backups stay.
import { planInstances } from '../model/instances.js';
import { planLines, planRemoveAll } from '../model/planner.js';
import { planServiceInstances } from '../model/services.js';
import { controlPlane } from '../proxies/activities.js';
import { executePlan } from '../runner/plan-runner.js';
import { runDatabaseTask, type DatabaseTaskInput } from '../task/task-bracket.js';

export async function deleteDatabase({ databaseId }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, null, async () => {
    const spec = await controlPlane.getDatabaseSpec({ databaseId });
    if (!spec) {
      await controlPlane.syncBackupSchedules({ databaseId }); // a retried delete: the schedules too
      return;
    }
    // its services go first (none in a database without services: its plan is as before)
    const services = planServiceInstances(databaseId, spec).map((s) => ({ serviceId: s.serviceId, hostId: s.hostId }));
    const plan = planRemoveAll(planInstances(databaseId, spec).map((i) => ({ instanceId: i.instanceId, hostId: i.hostId, nodeName: i.nodeName })), services);
    await controlPlane.recordPlan({ lines: planLines(plan) });
    await executePlan(databaseId, plan);
    await controlPlane.clearNodeDcs({ databaseId, nodeNames: spec.nodes.map((n) => n.name) });
    await controlPlane.removeDatabaseRecord({ databaseId });
    await controlPlane.syncBackupSchedules({ databaseId }); // no record: every schedule of it goes
  });
}
