// Backup schedules: each backup_config.schedules[] entry of a node is a Temporal Schedule that starts a
// scheduledBackup workflow (which runs the node_backup task). Made to match the spec after every create and update,
// deleted with the database. Visible in the Temporal UI under Schedules.
import type { Client, ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { ScheduleNotFoundError } from '@temporalio/client';
import type * as workflows from '../../workflows/index.js';
import { nodeBackupConfig } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { taskQueues } from '../../workflows/model/search-attributes.js';
import { getDatabase } from '../../store/databases.js';
import type { ControlPlaneDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';

export function scheduleActivities(deps: ControlPlaneDeps) {
  const client = (): Client => {
    if (!deps.temporal) throw permanent(FailureType.misconfigured, 'no Temporal client for backup schedules');
    return deps.temporal;
  };

  async function existing(databaseId: string): Promise<string[]> {
    const found: string[] = [];
    // By the database id each schedule carries in its memo: an id prefix alone also matches database `a-b`'s for `a`.
    for await (const s of client().schedule.list()) {
      if (s.scheduleId.startsWith(ids.backupSchedulePrefix(databaseId)) && s.memo?.databaseId === databaseId) found.push(s.scheduleId);
    }
    return found;
  }

  return {
    /** Creates, updates and deletes the database's schedules to match its spec (none when it is gone). */
    async syncBackupSchedules({ databaseId }: { databaseId: string }): Promise<{ created: string[]; updated: string[]; deleted: string[] }> {
      const db = await getDatabase(deps.store, databaseId);
      const wanted = new Map<string, { nodeName: string; type: 'full' | 'incr'; cron: string }>();
      for (const n of db?.spec.nodes ?? []) {
        for (const s of nodeBackupConfig(db!.spec, n.name)?.schedules ?? []) {
          wanted.set(ids.backupSchedule(databaseId, n.name, s.id), { nodeName: n.name, type: s.type, cron: s.cron_expression });
        }
      }
      const have = await existing(databaseId);
      const out = { created: [] as string[], updated: [] as string[], deleted: [] as string[] };
      for (const id of have.filter((h) => !wanted.has(h))) {
        await client().schedule.getHandle(id).delete().catch((err: unknown) => { if (!(err instanceof ScheduleNotFoundError)) throw err; });
        out.deleted.push(id);
      }
      for (const [id, w] of wanted) {
        const action: ScheduleOptionsStartWorkflowAction<typeof workflows.scheduledBackup> = {
          type: 'startWorkflow', workflowType: 'scheduledBackup' satisfies keyof typeof workflows, taskQueue: taskQueues.controlPlane,
          workflowId: ids.scheduledBackupRun(id), args: [{ databaseId, nodeName: w.nodeName, type: w.type }],
        };
        const spec = { cronExpressions: [w.cron] }; // evaluated in UTC
        if (have.includes(id)) {
          await client().schedule.getHandle(id).update((prev) => ({ ...prev, spec, action }));
          out.updated.push(id);
        } else {
          await client().schedule.create({ scheduleId: id, spec, action, memo: { databaseId, nodeName: w.nodeName } });
          out.created.push(id);
        }
      }
      return out;
    },
  };
}
