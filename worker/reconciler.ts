// The reconciler, in the control-plane worker: a database left locked or in a transitional state (creating,
// modifying, deleting, restoring) by a task that is no longer running — an API that stopped between its store write
// and the workflow's start, a task terminated by hand, a task whose last write never landed — is failed (the user
// can retry or delete), and a lock whose task is gone is released. Every write is a compare-and-set on what was read,
// so a task that moves on meanwhile wins.
import type { Client } from '@temporalio/client';
import { lockHolderGone, orphanLockMs } from '../platform/task-liveness.js';
import { failAbandonedDatabase, listLockedOrTransitional, transitionalStates, unlockDatabase } from '../store/databases.js';
import type { Store } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { taskAttributes } from '../workflows/model/search-attributes.js';

export interface ReconcilerDeps { store: Store; temporal: Client; log: Logger }

/** What one pass did, per database. */
export type Reconciled = { databaseId: string; action: 'failed' | 'unlocked' };

export async function reconcileOnce(deps: ReconcilerDeps): Promise<Reconciled[]> {
  const done: Reconciled[] = [];
  for (const row of await listLockedOrTransitional(deps.store)) {
    const transitional = transitionalStates.includes(row.state);
    if (row.lock) {
      if (!(await lockHolderGone(deps.temporal, row.lock))) continue;
      const error = `task ${row.lock.taskId} (${row.lock.type}) ended without finishing`;
      if (transitional) {
        if (await failAbandonedDatabase(deps.store, row.id, { state: row.state, lockTaskId: row.lock.taskId }, error)) done.push({ databaseId: row.id, action: 'failed' });
      } else if (await unlockDatabase(deps.store, row.id, row.lock.taskId)) {
        done.push({ databaseId: row.id, action: 'unlocked' });
      }
      continue;
    }
    // Transitional with no lock: made by a version before the lock, or its task's lock was released without the state.
    if (!transitional || row.idleMs < orphanLockMs) continue;
    const running = await deps.temporal.workflow.count(`${taskAttributes.databaseId.name} = '${row.id}' AND ExecutionStatus = 'Running'`);
    if (running.count > 0) continue;
    if (await failAbandonedDatabase(deps.store, row.id, { state: row.state, lockTaskId: null }, `no task is running for this ${row.state} database`)) {
      done.push({ databaseId: row.id, action: 'failed' });
    }
  }
  for (const r of done) deps.log.warn(r, r.action === 'failed' ? 'reconciler: database left by a task that is gone, now failed' : 'reconciler: released a lock whose task is gone');
  return done;
}

/**
 * Runs reconcileOnce at once (a worker started again after a crash finds what the crash left without waiting a
 * round), then every `intervalMs` until stopped; a pass that fails (store or Temporal away) is retried at the next tick.
 */
export function startReconciler(deps: ReconcilerDeps, intervalMs: number): { stop: () => void } {
  let running = false;
  const pass = () => {
    if (running) return;
    running = true;
    reconcileOnce(deps)
      .catch((err: unknown) => deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconciler pass failed'))
      .finally(() => { running = false; });
  };
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  pass();
  return { stop: () => clearInterval(timer) };
}
