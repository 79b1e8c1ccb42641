// Tasks that act on one node or one instance without changing the database's state: switchover, failover,
// restart, stop and start. A `scheduledAt` makes the task wait for that time first (a durable timer: the task is
// visible meanwhile, and cancelling it prevents the operation). A failure fails the task only: the database keeps
// running as it was, so its state is left alone.
import { ApplicationFailure, isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import { messageOf } from './task.js';

/** A time to wait for: `scheduled_at` and the same instant in epoch ms (parsed by the API). */
export interface Schedule { scheduledAt: string; atMs: number }

/** Waits from the task's start (workflow time, replay-safe) until the scheduled instant. */
export async function waitUntil(schedule: Schedule | undefined): Promise<void> {
  if (!schedule) return;
  const delay = schedule.atMs - workflowInfo().startTime.getTime();
  if (delay > 0) await sleep(delay, { summary: `waiting until ${schedule.scheduledAt}` });
}

export async function runOperationTask(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.nonRetryable(messageOf(err), 'TaskFailed');
  }
}
