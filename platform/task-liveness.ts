// Whether the task holding a database's lock is still there: the API (taking over a stale lock) and the reconciler
// (worker/reconciler.ts) ask the same question.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** A lock whose task does not exist counts as left by a crash (an API stopped between lock and start) only once it is this old. */
export const orphanLockMs = 60_000;

/** Whether the task `taskId`, holding a lock for `ageMs`, has ended (or never started and the lock is older than orphanLockMs). */
export async function lockHolderGone(client: Client, lock: { taskId: string; ageMs: number }): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(lock.taskId).describe()).status.name !== 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return lock.ageMs > orphanLockMs;
    throw err;
  }
}
