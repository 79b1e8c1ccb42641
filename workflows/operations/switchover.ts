// switchover (planned, optionally at `scheduled_at`) and failover (unplanned) of one node: a replica becomes the
// primary (procedures/hand-over.ts).
import { patched } from '@temporalio/workflow';
import { handOverNode, type HandOverInput } from '../procedures/hand-over.js';
import { onHost } from '../proxies/activities.js';
import { runOperationTask, type Schedule } from '../task/task-bracket.js';

export interface NodeOperationInput extends HandOverInput { schedule?: Schedule }

export async function switchover(input: NodeOperationInput): Promise<void> {
  await runOperationTask(async () => {
    await handOverNode(input, 'switchover');
    // Until the old primary is named the synchronous standby, losing the new primary would leave the node without
    // one: Patroni promotes only that standby. Only the user's switchover waits (an update's hand-over removes or
    // remakes the old primary next). Behind a patch marker: switchovers begun before it replay as they ran.
    if (patched('switchover-awaits-synchronous-standby')) {
      await onHost(input.hostId, `waiting for node ${input.nodeName} to have a synchronous standby again`, 'long')
        .awaitSynchronousStandby({ databaseId: input.databaseId, nodeName: input.nodeName });
    }
  }, { databaseId: input.databaseId, type: 'switchover' }, input.schedule);
}

export async function failover(input: NodeOperationInput): Promise<void> {
  await runOperationTask(() => handOverNode(input, 'failover'), { databaseId: input.databaseId, type: 'failover' });
}
