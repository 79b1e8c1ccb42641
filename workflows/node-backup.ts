// node_backup: a pgBackRest backup of one node, on its primary. The instance shows `backing_up` while it runs
// (and goes back to its live state whatever happens); pgBackRest's output lands in the task log.
import { CancellationScope } from '@temporalio/workflow';
import { controlPlane, onHost } from './proxies.js';
import { runOperationTask } from './scheduled.js';

export interface NodeBackupInput {
  databaseId: string;
  nodeName: string;
  /** A host with a running member of the node, chosen by the API. */
  hostId: string;
  type: 'full' | 'diff' | 'incr';
  annotations?: Record<string, string>;
  options?: Record<string, string>;
}

export async function nodeBackup(input: NodeBackupInput): Promise<void> {
  const { databaseId, nodeName, hostId } = input;
  await runOperationTask(async () => {
    const primary = await onHost(hostId, `finding node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
    if (!primary) throw new Error(`node ${nodeName} has no primary to back up`);
    await controlPlane.setInstanceState({ instanceId: primary, state: 'backing_up' });
    try {
      await onHost(hostId, `pgBackRest ${input.type} backup of node ${nodeName} on ${primary}`, 'copy')
        .runBackup({ databaseId, nodeName, instanceId: primary, type: input.type, annotations: input.annotations, options: input.options });
    } finally {
      await CancellationScope.nonCancellable(() => controlPlane.setInstanceState({ instanceId: primary, state: 'available' }));
    }
  });
}
