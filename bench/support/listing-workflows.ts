// The workflow the task-listing benchmark fills a namespace with: a task that ends at once, through the same task
// bracket as every operation (so a failed one carries its error in its memo, as real failed tasks do).
import { ApplicationFailure } from '@temporalio/workflow';
import { runOperationTask } from '../../workflows/task/task-bracket.js';

export async function benchTask({ fail }: { fail: boolean }): Promise<void> {
  await runOperationTask(async () => {
    if (fail) throw ApplicationFailure.nonRetryable('bench: this task fails on purpose');
  });
}
