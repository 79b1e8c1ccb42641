// node_backup: a pgBackRest backup of one node, on its primary. The instance shows `backing_up` while it runs
// (and goes back to its live state whatever happens); pgBackRest's output lands in the task log.
import { ActivityFailure, ApplicationFailure, CancellationScope, executeChild, ParentClosePolicy, patched, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import { uuidv7At } from '../model/ids.js';
import { planInstances } from '../model/instances.js';
import { nodeHost } from '../model/planner.js';
import { taskQueues, taskSearchAttributes } from '../model/search-attributes.js';
import { controlPlane, loadSpec, onHost } from '../proxies/activities.js';
import { runOperationTask } from '../task/task-bracket.js';

export interface NodeBackupInput {
  databaseId: string;
  nodeName: string;
  /** A host with a running member of the node, chosen by the API; a scheduled run takes the node's first host. */
  hostId?: string;
  type: 'full' | 'diff' | 'incr';
  annotations?: Record<string, string>;
  options?: Record<string, string>;
  /** Started by a backup schedule: waits for a task holding the database's lock to end, up to an hour. */
  scheduled?: boolean;
}

const scheduledLockWaitMs = 60 * 60_000;

export async function nodeBackup(input: NodeBackupInput): Promise<void> {
  const { databaseId, nodeName } = input;
  await runOperationTask(async () => {
    let hostId = input.hostId ?? nodeHost(planInstances(databaseId, await loadSpec(databaseId)), nodeName);
    // Behind a patch marker: backups that ran before a failover could move them still replay.
    const follows = patched('backup-follows-primary');
    let left: string | null = null; // the primary that stopped leading under the backup
    for (let moved = 0; ; moved++) {
      let primary = await onHost(hostId, `finding node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
      // the DCS may still name the one that stopped leading for a moment: ask again, for a minute at most
      for (let asked = 1; follows && left !== null && primary === left && asked < newLeaderAsks; asked++) {
        await sleep(primaryMoveWaitMs, { summary: `waiting for node ${nodeName}'s new primary` });
        primary = await onHost(hostId, `finding node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
      }
      if (!primary) throw new Error(`node ${nodeName} has no primary to back up`);
      // the primary's own host runs the backup: pgBackRest runs inside its container
      if (follows) hostId = planInstances(databaseId, await loadSpec(databaseId)).find((i) => i.instanceId === primary)?.hostId ?? hostId;
      await controlPlane.setInstanceState({ instanceId: primary, state: 'backing_up' });
      try {
        await onHost(hostId, `pgBackRest ${input.type} backup of node ${nodeName} on ${primary}`, 'copy')
          .runBackup({ databaseId, nodeName, instanceId: primary, type: input.type, annotations: input.annotations, options: input.options, ...(moved > 0 ? { afterMove: true } : {}) });
        return;
      } catch (err) {
        // the primary was failed over meanwhile (frozen and fenced, or dead): the new one is backed up, twice at most
        if (!follows || moved >= maxPrimaryMoves || !primaryChanged(err)) throw err;
        left = primary;
        await sleep(primaryMoveWaitMs, { summary: `node ${nodeName}'s primary changed during its backup: waiting for the new one` });
      } finally {
        await CancellationScope.nonCancellable(() => controlPlane.setInstanceState({ instanceId: primary, state: 'available', from: ['backing_up'] }));
      }
    }
  }, { databaseId, type: 'node_backup', ...(input.scheduled ? { waitMs: scheduledLockWaitMs } : {}) });
}

const maxPrimaryMoves = 2;
const primaryMoveWaitMs = 5000;
const newLeaderAsks = 12;
const primaryChanged = (err: unknown) => err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'PrimaryChanged';

/** Started by a backup schedule: runs the node_backup task under a task id of its own (a UUIDv7, as every task's). */
export async function scheduledBackup({ databaseId, nodeName, type }: { databaseId: string; nodeName: string; type: 'full' | 'incr' }): Promise<void> {
  await executeChild(nodeBackup, {
    workflowId: uuidv7At(workflowInfo().startTime.getTime(), uuid4()),
    taskQueue: taskQueues.controlPlane,
    args: [{ databaseId, nodeName, type, scheduled: true }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: taskSearchAttributes({ type: 'node_backup', databaseId, nodeName }),
    staticSummary: `node_backup ${databaseId} ${nodeName} (scheduled)`,
  });
}
