// Every mutating task of a database holds the database's lock (store/databases.ts lockDatabase) from its request to
// its end. The API takes it for the task id it is about to start, in one compare-and-set with the state change that
// goes with it, so of two concurrent requests exactly one is accepted and the other gets 409 — whatever the pair
// (update, delete, restore, switchover, failover, restart, stop, start, backup). The workflow's last step releases it
// (workflows/task/task-bracket.ts); a lock whose task is gone is taken over here, and released by the reconciler
// (worker/reconciler.ts).
import type { Client } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import { lockHolderGone } from '../platform/task-liveness.js';
import { getDatabase, getDatabaseLock, lockDatabase, unlockDatabase, type DatabaseLock, type DatabaseRecord, type LockRequest } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { databaseNotFound, notModifiable } from './database-guards.js';
import type { ApiError } from './errors.js';
import { startDatabaseTask, type StartableTaskType, type StartTaskInput, type Task } from './tasks.js';

export interface LockDeps { store: Store; temporal: () => Client }

export type Refusal = (lock: DatabaseLock | null) => ApiError;

/** Takes the lock (taking it over from a holder that is gone); refuses with `refuse` (default 409 not modifiable). */
export async function lockOrRefuse(deps: LockDeps, id: string, l: Omit<LockRequest, 'takeOverFrom'>, refuse: Refusal = () => notModifiable()) {
  const taken = await lockDatabase(deps.store, id, l);
  if (taken) return taken;
  const lock = await getDatabaseLock(deps.store, id);
  if (!lock) {
    if (!(await getDatabase(deps.store, id))) throw databaseNotFound();
    throw refuse(null);
  }
  if (await lockHolderGone(deps.temporal(), lock)) {
    const over = await lockDatabase(deps.store, id, { ...l, takeOverFrom: lock.taskId });
    if (over) return over;
  }
  throw refuse(lock);
}

export interface LockedStart<T extends StartableTaskType> {
  task: StartTaskInput<T>;
  /** The states it may start from ('any': every one), the state it moves the database to and its new spec. */
  from: LockRequest['from'];
  to?: LockRequest['to'];
  spec?: LockRequest['spec'];
  refuse?: Refusal;
  /** Runs once the lock is held, before the start (a failure releases the lock and puts the state back). */
  prepare?: () => Promise<unknown>;
}

/**
 * Locks the database for a new task id, then starts the task under that id. If anything fails before the workflow
 * exists, the lock is released and the state and spec put back, so nothing is left half-done.
 */
export async function startLockedTask<T extends StartableTaskType>(deps: LockDeps, s: LockedStart<T>): Promise<{ task: Task; db: DatabaseRecord }> {
  const taskId = uuidv7();
  const id = s.task.input.databaseId;
  const { db, previous } = await lockOrRefuse(deps, id, { taskId, type: s.task.type, from: s.from, to: s.to, spec: s.spec }, s.refuse);
  try {
    await s.prepare?.();
    return { task: await startDatabaseTask(deps.temporal(), { ...s.task, taskId }), db };
  } catch (err) {
    await unlockDatabase(deps.store, id, taskId, { state: previous.state, ...(s.spec ? { spec: previous.spec } : {}) });
    throw err;
  }
}
