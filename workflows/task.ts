// Brackets a database operation as a task: success sets the database's final state; failure or cancellation sets
// it `failed` in a non-cancellable scope (so cleanup runs even while the workflow is being cancelled), then the
// error propagates and the task ends failed or canceled.
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { DatabaseState } from '../activities/store/databases.js';
import { controlPlane } from './steps.js';

export interface DatabaseTaskInput {
  databaseId: string;
  /** update ?remove_host=: hosts treated as gone — nothing is asked of them, their records are dropped. */
  removeHosts?: string[];
}

export function messageOf(err: unknown): string {
  let e: unknown = err;
  // ActivityFailure → its cause carries the activity's own message
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}

export async function runDatabaseTask(databaseId: string, onSuccess: DatabaseState | null, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    if (onSuccess) await controlPlane.setDatabaseState({ databaseId, state: onSuccess, instanceState: 'available' });
  } catch (err) {
    const cancelled = isCancellation(err);
    const error = cancelled ? 'task canceled' : messageOf(err);
    await CancellationScope.nonCancellable(() => controlPlane.setDatabaseState({ databaseId, state: 'failed', instanceState: 'failed', error }));
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(error, 'TaskFailed');
  }
}
