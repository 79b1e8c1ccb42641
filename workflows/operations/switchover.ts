// switchover (planned, optionally at `scheduled_at`) and failover (unplanned) of one node: a replica becomes the
// primary (procedures/hand-over.ts).
import { handOverNode, type HandOverInput } from '../procedures/hand-over.js';
import { runOperationTask, type Schedule } from '../task/task-bracket.js';

export interface NodeOperationInput extends HandOverInput { schedule?: Schedule }

export async function switchover(input: NodeOperationInput): Promise<void> {
  await runOperationTask(() => handOverNode(input, 'switchover'), { databaseId: input.databaseId, type: 'switchover' }, input.schedule);
}

export async function failover(input: NodeOperationInput): Promise<void> {
  await runOperationTask(() => handOverNode(input, 'failover'), { databaseId: input.databaseId, type: 'failover' });
}
