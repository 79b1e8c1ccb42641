// Tasks that act on one node or one instance without changing the database's state: switchover, failover,
// restart, stop and start. A `scheduledAt` makes the task wait for that time first (a durable timer: the task is
// visible meanwhile, and cancelling it prevents the operation). A failure fails the task only: the database keeps
// running as it was, so its state is left alone.
import { ApplicationFailure, isCancellation, sleep } from '@temporalio/workflow';
import { messageOf } from './task.js';

/** A time to wait for: the API turns `scheduled_at` into the delay from the task's start. */
export interface Schedule { scheduledAt: string; delayMs: number }

export async function waitUntil(schedule: Schedule | undefined): Promise<void> {
  if (schedule && schedule.delayMs > 0) await sleep(schedule.delayMs, { summary: `waiting until ${schedule.scheduledAt}` });
}

export async function runOperationTask(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.nonRetryable(messageOf(err), 'TaskFailed');
  }
}
