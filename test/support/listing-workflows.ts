// Workflows the task-listing test starts as tasks (with task search attributes, on a queue of its own): one that ends
// at once, and one that runs until it is signalled.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export async function quickTask(): Promise<void> {}

export const finish = defineSignal('finish');
export async function waitingTask(): Promise<void> {
  let done = false;
  setHandler(finish, () => { done = true; });
  await condition(() => done);
}
