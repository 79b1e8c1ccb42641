// restore: nodes brought back in place from a pgBackRest backup, one node_restore child task per node, then the
// database converged (replicas rebuilt, subscriptions both ways made anew, slots and stanzas checked) as an update
// would. A restored node keeps what it was restored to: its new subscriptions start from now, and its peers forget
// what they knew of it, so nothing it rolled back comes back.
import { CancellationScope, executeChild, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import type { DatabaseState } from '../../store/databases.js';
import { planInstances } from '../model/instances.js';
import { nodeHost } from '../model/planner.js';
import { taskQueues, taskSearchAttributes } from '../model/search-attributes.js';
import { planUpdate } from '../model/update-planner.js';
import { controlPlane, loadSpec, onHost } from '../proxies/activities.js';
import { runPlan } from '../runner/plan-runner.js';
import { failTask, messageOf, runDatabaseTask, runOperationTask } from '../task/task-bracket.js';

/** previousState: the database's state before the API made it `restoring`, which it gets back if the checks fail. */
export interface RestoreDatabaseInput { databaseId: string; restore: RestoreConfigSpec; targets: { nodeName: string; taskId: string }[]; previousState?: DatabaseState }
/** refused: the restore's checks failed before anything was stopped; the node task fails with this and does nothing. */
export interface NodeRestoreInput { databaseId: string; nodeName: string; restore: RestoreConfigSpec; refused?: string }

export async function restoreDatabase({ databaseId, restore, targets, previousState }: RestoreDatabaseInput): Promise<void> {
  // Behind a patch marker: restores that ran before these checks still replay.
  if (patched('restore-checks-first')) await checkBeforeStopping(databaseId, restore, targets, previousState ?? 'available');
  await runDatabaseTask(databaseId, 'available', async () => {
    try {
      await restoreNodes(databaseId, restore, targets);
    } finally {
      await CancellationScope.nonCancellable(() => controlPlane.forgetRestoreSecrets({ databaseId }));
    }
    const spec = await loadSpec(databaseId);
    const layout = await controlPlane.getDatabaseLayout({ databaseId });
    await runPlan(databaseId, spec, planUpdate(databaseId, layout, spec, [], { rolling: patched('rolling-node-update') }), 'modifying');
  });
}

/**
 * Every check that can be made before a node is stopped (the input's own were made by the API): each target node's
 * host reads the source with pgBackRest — repository reachable, stanza and a backup there, the requested set, a
 * backup ending before a time target. A failure leaves the database as it was (its state back, nothing stopped),
 * fails each node task with the reason and then the restore task.
 */
async function checkBeforeStopping(databaseId: string, restore: RestoreConfigSpec, targets: RestoreDatabaseInput['targets'], previousState: DatabaseState): Promise<void> {
  try {
    const spec = await loadSpec(databaseId);
    const instances = planInstances(databaseId, spec);
    for (const t of targets) {
      await onHost(nodeHost(instances, t.nodeName), `checking the restore source of node ${t.nodeName} before stopping anything`, 'long')
        .checkRestoreSource({ databaseId, nodeName: t.nodeName, restore });
    }
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => giveBack(databaseId, previousState));
      throw err;
    }
    const reason = messageOf(err);
    await CancellationScope.nonCancellable(async () => {
      await giveBack(databaseId, previousState);
      await restoreNodes(databaseId, restore, targets, reason); // each node task fails, naming why
    });
    throw failTask(reason);
  }
}

async function giveBack(databaseId: string, state: DatabaseState): Promise<void> {
  await controlPlane.forgetRestoreSecrets({ databaseId });
  await controlPlane.setDatabaseState({ databaseId, state });
}

/** One node_restore child task per target node, one after the other. */
async function restoreNodes(databaseId: string, restore: RestoreConfigSpec, targets: RestoreDatabaseInput['targets'], refused?: string): Promise<void> {
  const parent = workflowInfo().workflowId;
  for (const t of targets) {
    const child = executeChild(nodeRestore, {
      workflowId: t.taskId,
      taskQueue: taskQueues.controlPlane,
      args: [{ databaseId, nodeName: t.nodeName, restore, ...(refused ? { refused } : {}) }],
      typedSearchAttributes: taskSearchAttributes({ type: 'node_restore', databaseId, nodeName: t.nodeName, parentTaskId: parent }),
      staticSummary: `node_restore ${databaseId} ${t.nodeName}`,
    });
    // refused: every node task ends failed with the reason, each one's failure expected
    await (refused ? child.catch(() => undefined) : child);
  }
}

export async function nodeRestore(input: NodeRestoreInput): Promise<void> {
  await runOperationTask(async () => {
    if (input.refused) throw new Error(input.refused);
    await restoreNode(input);
  });
}

async function restoreNode({ databaseId, nodeName, restore }: NodeRestoreInput): Promise<void> {
  const spec = await loadSpec(databaseId);
  const instances = planInstances(databaseId, spec);
  const host = nodeHost(instances, nodeName);
  const layout = await controlPlane.getDatabaseLayout({ databaseId });
  const peers = layout.joined.filter((n) => n !== nodeName && spec.nodes.some((s) => s.name === n));
  await Promise.all(peers.map((p) => onHost(nodeHost(instances, p), `dropping node ${p}'s subscription to node ${nodeName} and node ${nodeName}'s slots on it`, 'long')
    .dropNodeLinks({ databaseId, nodeName: p, removed: nodeName })));
  const primary = await onHost(host, `finding node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
  if (!primary) throw new Error(`node ${nodeName} has no primary to restore`);
  const primaryHost = layout.instances.find((i) => i.instanceId === primary)?.hostId ?? host;
  await Promise.all(layout.instances.filter((i) => i.nodeName === nodeName && i.instanceId !== primary)
    .map((i) => onHost(i.hostId, `removing replica ${i.instanceId} (rebuilt from the restored primary afterwards)`).removeInstance({ databaseId, instanceId: i.instanceId })));
  const target = restore.restore_options?.type ? `${restore.restore_options.type} ${restore.restore_options.target ?? ''}`.trim() : 'the latest point';
  await onHost(primaryHost, `restoring ${primary} with pgBackRest from ${restore.source_database_id}/${restore.source_node_name} to ${target}`, 'copy')
    .restoreInstance({ databaseId, nodeName, instanceId: primary, restore, taskId: workflowInfo().workflowId });
  await onHost(primaryHost, `making node ${nodeName}'s replication node anew on the restored data`, 'long')
    .resetRestoredNode({ databaseId, nodeName, sourceDatabaseName: restore.source_database_name });
}
