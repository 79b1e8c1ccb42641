// The task bracket: how every operation runs as a task. Two kinds:
// - database tasks (create, update, delete, restore): success sets the database's final state; failure or
//   cancellation sets it `failed` in a non-cancellable scope (so cleanup runs even while the workflow is being
//   cancelled), then the error propagates and the task ends failed or canceled;
// - operation tasks (switchover, failover, restart, stop, start, backup, node restore): they act on one node or one
//   instance without changing the database's state, so a failure fails the task only.
// Every database task holds the database's lock (api/database-lock.ts): a database task's final state write releases
// it, an operation task releases it as its last step.
// A `scheduledAt` makes an operation wait for that time first (a durable timer: the task is visible meanwhile, and
// cancelling it prevents the operation). It takes the database's lock only when the wait ends: a switchover or
// restart scheduled days ahead does not refuse every other change meanwhile.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { DatabaseState } from '../../store/databases.js';
import { taskMemo } from '../model/search-attributes.js';
import { controlPlane } from '../proxies/activities.js';

export interface DatabaseTaskInput {
  databaseId: string;
  /** update ?remove_host=: hosts treated as gone — nothing is asked of them, their records are dropped. */
  removeHosts?: string[];
}

/** A time to wait for: `scheduled_at` and the same instant in epoch ms (parsed by the API). */
export interface Schedule { scheduledAt: string; atMs: number }

export function messageOf(err: unknown): string {
  let e: unknown = err;
  // ActivityFailure → its cause carries the activity's own message
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}

export async function runDatabaseTask(databaseId: string, onSuccess: DatabaseState | null, body: () => Promise<void>): Promise<void> {
  try {
    // The API took the database's lock for this task; one a forced delete took over meanwhile (before this task
    // started) fails it here, before it acts. Behind a patch marker: tasks from before the lock still replay.
    if (patched('database-lock')) await controlPlane.acquireDatabaseLock({ databaseId, type: workflowInfo().workflowType });
    await body();
    if (onSuccess) await controlPlane.setDatabaseState({ databaseId, state: onSuccess, instanceState: 'available' });
  } catch (err) {
    const cancelled = isCancellation(err);
    const error = cancelled ? 'task canceled' : messageOf(err);
    await CancellationScope.nonCancellable(() => controlPlane.setDatabaseState({ databaseId, state: 'failed', instanceState: 'failed', error }));
    if (cancelled) throw err;
    throw failTask(error);
  }
}

/**
 * The task's failure, with its message also in the memo: task listings show it without reading the history. Behind
 * a patch marker, so tasks that failed before the memo existed still replay.
 */
export function failTask(message: string): ApplicationFailure {
  if (patched('task-failure-memo')) upsertMemo({ [taskMemo.error]: message });
  return ApplicationFailure.nonRetryable(message, 'TaskFailed');
}

/**
 * `lock`: the database whose lock the operation holds — taken by the API for this task's id, or here (a scheduled
 * backup, the agent's failover) when nobody holds it; another holder fails the task before it acts. Released as the
 * task's last step, whatever its outcome. Behind a patch marker: operations that ran before the lock still replay.
 */
export interface OperationLock {
  databaseId: string;
  type: string;
  /**
   * A run nobody asked for at this moment (a backup schedule's) waits up to this long for a task holding the lock to
   * end, instead of failing at once: a nightly backup that fires during an update runs after it.
   */
  waitMs?: number;
}

export async function runOperationTask(body: () => Promise<void>, lock?: OperationLock, schedule?: Schedule): Promise<void> {
  const locked = lock !== undefined && patched('database-lock');
  try {
    // A scheduled task (the API started it without the lock) waits first, then locks. Behind a patch marker:
    // scheduled tasks that locked before waiting still replay.
    const waitFirst = schedule !== undefined && patched('lock-after-schedule');
    if (waitFirst) await waitUntil(schedule);
    if (locked) await acquireLock(lock);
    if (!waitFirst) await waitUntil(schedule);
    await body();
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw failTask(messageOf(err));
  } finally {
    if (locked) await CancellationScope.nonCancellable(() => controlPlane.releaseDatabaseLock({ databaseId: lock.databaseId }));
  }
}

const lockRetryMs = 15_000;

/** Takes the lock; one held by another task fails the operation, or is waited for up to `waitMs`. */
async function acquireLock({ databaseId, type, waitMs }: OperationLock): Promise<void> {
  const waits = Math.floor((waitMs ?? 0) / lockRetryMs);
  for (let waited = 0; ; waited++) {
    try {
      await controlPlane.acquireDatabaseLock({ databaseId, type });
      return;
    } catch (err) {
      const busy = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'Refused';
      // Behind a patch marker: runs that failed on a busy lock before this wait existed still replay.
      if (!busy || waited >= waits || !patched('scheduled-run-waits-for-lock')) throw err;
      await sleep(lockRetryMs, { summary: `waiting for the task holding database ${databaseId}'s lock to end` });
    }
  }
}

/** Waits from the task's start (workflow time, replay-safe) until the scheduled instant. */
async function waitUntil(schedule: Schedule | undefined): Promise<void> {
  if (!schedule) return;
  const delay = schedule.atMs - workflowInfo().startTime.getTime();
  if (delay > 0) await sleep(delay, { summary: `waiting until ${schedule.scheduledAt}` });
}
