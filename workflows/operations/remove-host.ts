// remove_host (a host task): the host leaves the cluster. Each database that had it in a node's host_ids (the API
// has already stored its spec without it, state modifying) converges in its own `update` child task, all in
// parallel: a node whose only host it was is removed (its peers drop their subscriptions to it and its slots), its
// replicas elsewhere go. A host that is gone (its agent silent when the removal was asked) is treated as update's
// remove_host does: nothing is asked of it, its instances are only forgotten. A host whose agent still answers removes
// its instances itself (a replica that stayed would still be a Patroni member, one a failover could promote). Only
// when every child succeeded is the host itself forgotten; a failed child fails this task, and the host stays listed
// so the removal can be asked again.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { taskQueues, taskSearchAttributes } from '../model/search-attributes.js';
import { controlPlane } from '../proxies/activities.js';
import { messageOf, runOperationTask, type DatabaseTaskInput } from '../task/task-bracket.js';

export interface RemoveHostInput { hostId: string; hostGone: boolean; updates: { databaseId: string; taskId: string }[] }

export async function removeHost({ hostId, hostGone, updates }: RemoveHostInput): Promise<void> {
  await runOperationTask(async () => {
    const parent = workflowInfo().workflowId;
    const results = await Promise.allSettled(updates.map((u) => executeChild('updateDatabase', {
      workflowId: u.taskId,
      taskQueue: taskQueues.controlPlane,
      args: [{ databaseId: u.databaseId, ...(hostGone ? { removeHosts: [hostId] } : {}) } satisfies DatabaseTaskInput],
      typedSearchAttributes: taskSearchAttributes({ type: 'update', databaseId: u.databaseId, parentTaskId: parent }),
      staticSummary: `update ${u.databaseId} without host ${hostId}`,
    })));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`database ${updates[i]!.databaseId}: ${messageOf(r.reason)}`] : []));
    if (failed.length > 0) throw new Error(`host ${hostId} stays in the cluster: ${failed.join('; ')}`);
    await controlPlane.forgetHost({ hostId });
  });
}
