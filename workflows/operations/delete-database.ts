// delete: every instance with its data, the database networks, Patroni's keys, then the record and the backup
// schedules. Tasks and backups stay. What is removed is what runs — the instance records and, on each host, every
// container and volume labelled with the database — not only what the spec names: an update that failed before it
// removed a node leaves that node's instances running under a spec without it. A forced delete first cancels the
// task it took the database's lock from and waits for it to end, so none of its steps acts after the removal.
import { patched } from '@temporalio/workflow';
import { planInstances } from '../model/instances.js';
import { planLines, planRemoveAll } from '../model/planner.js';
import { planServiceInstances } from '../model/services.js';
import { controlPlane, controlPlaneWaits } from '../proxies/activities.js';
import { executePlan } from '../runner/plan-runner.js';
import { runDatabaseTask, type DatabaseTaskInput } from '../task/task-bracket.js';

export interface DeleteDatabaseInput extends DatabaseTaskInput {
  /** A forced delete: the task that held the database's lock, cancelled and awaited before anything is removed. */
  supersedes?: string;
}

/** How long a superseded task may take to stop once cancelled before it is terminated. */
const supersededGraceMs = 5 * 60_000;

export async function deleteDatabase({ databaseId, supersedes }: DeleteDatabaseInput): Promise<void> {
  await runDatabaseTask(databaseId, null, async () => {
    if (supersedes && patched('delete-supersedes')) await controlPlaneWaits.endSupersededTask({ taskId: supersedes, graceMs: supersededGraceMs });
    const spec = await controlPlane.getDatabaseSpec({ databaseId });
    if (!spec) {
      await controlPlane.syncBackupSchedules({ databaseId }); // a retried delete: the schedules too
      return;
    }
    const instances = planInstances(databaseId, spec).map((i) => ({ instanceId: i.instanceId, hostId: i.hostId, nodeName: i.nodeName }));
    // its services go first (none in a database without services: its plan is as before)
    const services = planServiceInstances(databaseId, spec).map((s) => ({ serviceId: s.serviceId, hostId: s.hostId }));
    // Behind a patch marker: deletes that planned from the spec alone still replay.
    if (patched('delete-from-records')) {
      const { instances: recorded, serviceInstances } = await controlPlane.getDatabaseLayout({ databaseId });
      for (const r of recorded) if (!instances.some((i) => i.instanceId === r.instanceId)) instances.push(r);
      for (const r of serviceInstances) if (!services.some((s) => s.serviceId === r.serviceId && s.hostId === r.hostId)) services.push(r);
    }
    const plan = planRemoveAll(instances, services);
    await controlPlane.recordPlan({ lines: planLines(plan) });
    await executePlan(databaseId, plan);
    await controlPlane.clearNodeDcs({ databaseId, nodeNames: [...new Set([...spec.nodes.map((n) => n.name), ...instances.map((i) => i.nodeName)])] });
    await controlPlane.removeDatabaseRecord({ databaseId });
    await controlPlane.syncBackupSchedules({ databaseId }); // no record: every schedule of it goes
  });
}
