// The database's lock and state writes against a real store and a real Temporal: a task's state write is a
// compare-and-set (from a transitional state, by the lock's holder), the lock is taken by one of many concurrent
// takers, and the reconciler fails what a gone task left half-changed and releases its lock.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createControlPlaneActivities } from '../../activities/index.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { createLogger } from '../../platform/logger.js';
import { connectClient } from '../../platform/temporal.js';
import { getDatabase, getDatabaseLock, insertDatabase, lockDatabase, newDatabaseSecrets, type DatabaseState } from '../../store/databases.js';
import { getInstance, upsertInstance } from '../../store/instances.js';
import { reconcileOnce } from '../../worker/reconciler.js';
import { stackEtcd } from '../support/etcd.js';
import { testSecretKey } from '../support/secret-key.js';
import { createTestStore, type TestStore } from '../support/store.js';

let db: TestStore;
let temporal: Client;
let activities: ReturnType<typeof createControlPlaneActivities>;
const spec = { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;
const suffix = Math.random().toString(36).slice(2, 7);
let n = 0;
async function database(state: DatabaseState, lock?: { taskId: string; type: string }): Promise<string> {
  const id = `lk-${suffix}-${++n}`;
  await insertDatabase(db.store, { id, tenantId: null, spec, secrets: newDatabaseSecrets(), state, ...(lock ? { lock } : {}) });
  return id;
}
/** Runs a control-plane activity as a step of task `taskId` (the activity reads its workflow id from its context). */
function asTask<T>(taskId: string, fn: () => Promise<T>): Promise<T> {
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: taskId, runId: 'r' } } as never);
  return env.run(fn);
}

beforeAll(async () => {
  const stack = inject('stack');
  db = await createTestStore(stack.storeUrl);
  temporal = await connectClient(stack.temporalAddress, stack.namespace, { secretKey: testSecretKey() });
  activities = createControlPlaneActivities({ store: db.store, etcd: stackEtcd(), temporal });
});
afterAll(async () => {
  await temporal?.connection.close();
  await db?.drop();
});

describe('setDatabaseState', () => {
  it('writes the final state of the task holding the lock, and releases it', async () => {
    const task = uuidv7();
    const id = await database('modifying', { taskId: task, type: 'update' });
    await asTask(task, () => activities.setDatabaseState({ databaseId: id, state: 'available' }));
    expect((await getDatabase(db.store, id))?.state).toBe('available');
    expect(await getDatabaseLock(db.store, id)).toBeNull();
  });

  it('a task that no longer holds the lock (a forced delete took it over) writes nothing', async () => {
    const update = uuidv7();
    const del = uuidv7();
    const id = await database('modifying', { taskId: update, type: 'update' });
    expect(await lockDatabase(db.store, id, { taskId: del, type: 'delete', from: 'any', to: 'deleting', takeOverFrom: update })).not.toBeNull();
    await asTask(update, () => activities.setDatabaseState({ databaseId: id, state: 'failed', instanceState: 'failed', error: 'task canceled' }));
    expect((await getDatabase(db.store, id))?.state).toBe('deleting');
    expect((await getDatabaseLock(db.store, id))?.taskId).toBe(del);
  });

  it('does not write from a state that is not a task\'s transitional one', async () => {
    const id = await database('available');
    await asTask(uuidv7(), () => activities.setDatabaseState({ databaseId: id, state: 'failed' }));
    expect((await getDatabase(db.store, id))?.state).toBe('available');
  });
});

describe('setInstanceState', () => {
  it('a backup\'s end writes available only over its own backing_up, not over what happened meanwhile', async () => {
    const id = await database('available');
    const instanceId = `${id}-n1-a`;
    await upsertInstance(db.store, { id: instanceId, databaseId: id, nodeName: 'n1', hostId: 'host-1', state: 'available' });
    await activities.setInstanceState({ instanceId, state: 'backing_up' });
    await activities.setInstanceState({ instanceId, state: 'available', from: ['backing_up'] });
    expect((await getInstance(db.store, instanceId))?.state).toBe('available');
    await activities.setInstanceState({ instanceId, state: 'backing_up' });
    await activities.setInstanceState({ instanceId, state: 'failed' }); // e.g. a failed update's final write
    await activities.setInstanceState({ instanceId, state: 'available', from: ['backing_up'] });
    expect((await getInstance(db.store, instanceId))?.state).toBe('failed');
  });
});

describe('the lock', () => {
  it('of 20 concurrent takers exactly one gets it', async () => {
    const id = await database('available');
    const results = await Promise.all(Array.from({ length: 20 }, () => lockDatabase(db.store, id, { taskId: uuidv7(), type: 'switchover', from: ['available'] })));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('a scheduled task (no API) takes a free lock, is refused a held one, and releases only its own', async () => {
    const id = await database('available');
    const mine = uuidv7();
    await asTask(mine, () => activities.acquireDatabaseLock({ databaseId: id, type: 'node_backup' }));
    await asTask(mine, () => activities.acquireDatabaseLock({ databaseId: id, type: 'node_backup' })); // held already: fine
    const other = uuidv7();
    await expect(asTask(other, () => activities.acquireDatabaseLock({ databaseId: id, type: 'switchover' }))).rejects.toThrow(`task ${mine} (node_backup) holds its lock`);
    expect(await asTask(other, () => activities.releaseDatabaseLock({ databaseId: id }))).toEqual({ released: false });
    expect(await asTask(mine, () => activities.releaseDatabaseLock({ databaseId: id }))).toEqual({ released: true });
  });
});

describe('the reconciler', () => {
  const log = createLogger('silent', 'test');

  it('fails a database left modifying by a task that is gone and releases its lock; leaves a running task\'s alone', async () => {
    const gone = await temporal.workflow.start('switchover', { workflowId: uuidv7(), taskQueue: `nobody-${suffix}`, args: [{}] });
    await gone.terminate('gone');
    const running = await temporal.workflow.start('switchover', { workflowId: uuidv7(), taskQueue: `nobody-${suffix}`, args: [{}] });
    try {
      const left = await database('modifying', { taskId: gone.workflowId, type: 'update' });
      const stale = await database('available', { taskId: gone.workflowId, type: 'switchover' });
      const busy = await database('modifying', { taskId: running.workflowId, type: 'update' });
      const done = await reconcileOnce({ store: db.store, temporal, log });
      expect(done).toEqual(expect.arrayContaining([{ databaseId: left, action: 'failed' }, { databaseId: stale, action: 'unlocked' }]));
      expect((await getDatabase(db.store, left))?.state).toBe('failed');
      expect(await getDatabaseLock(db.store, left)).toBeNull();
      expect((await getDatabase(db.store, stale))?.state).toBe('available');
      expect(await getDatabaseLock(db.store, stale)).toBeNull();
      expect((await getDatabase(db.store, busy))?.state).toBe('modifying');
      expect((await getDatabaseLock(db.store, busy))?.taskId).toBe(running.workflowId);
    } finally {
      await running.terminate('test over');
    }
  });

  it('fails a database left creating with no lock and no running task (an API stopped before the start), once it is a minute old', async () => {
    const id = await database('creating');
    expect((await reconcileOnce({ store: db.store, temporal, log })).some((r) => r.databaseId === id)).toBe(false); // too fresh
    await db.store.query("UPDATE databases SET updated_at = now() - interval '2 minutes' WHERE id = $1", [id]);
    expect(await reconcileOnce({ store: db.store, temporal, log })).toContainEqual({ databaseId: id, action: 'failed' });
    expect((await getDatabase(db.store, id))?.state).toBe('failed');
  });
});
