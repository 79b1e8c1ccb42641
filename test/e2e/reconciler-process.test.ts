// The reconciler runs in the real control-plane worker process (its logic is tested in test/activity/database-lock):
// a database an API left `modifying` under the lock of a task that is gone, and one left `creating` with no lock
// and no task, are failed by a worker process as soon as it starts, not a round later.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { getDatabase, getDatabaseLock, insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { testTemporalClient } from '../support/secret-key.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { waitFor } from '../support/wait.js';
import { killWorker, startWorkerProcess } from '../support/worker-process.js';

let db: TestStore;
let temporal: Client;
let worker: ChildProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-reconciler-'));
const spec = { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;
const suffix = Math.random().toString(36).slice(2, 7);

beforeAll(async () => {
  const stack = inject('stack');
  db = await createTestStore(stack.storeUrl);
  temporal = await testTemporalClient(stack.temporalAddress, stack.namespace);
});

afterAll(async () => {
  if (worker) await killWorker(worker);
  await temporal?.connection.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it('the control-plane worker process fails databases left modifying or creating with no running task, at its start', async () => {
  // an update whose task is gone (terminated) while it held the lock
  const gone = await temporal.workflow.start('switchover', { workflowId: uuidv7(), taskQueue: `nobody-${suffix}`, args: [{}] });
  await gone.terminate('gone');
  const modifying = `rc-${suffix}-1`;
  await insertDatabase(db.store, { id: modifying, tenantId: null, spec, secrets: newDatabaseSecrets(), state: 'modifying', lock: { taskId: gone.workflowId, type: 'update' } });
  // a create whose workflow never started (the API stopped between its store write and the start), two minutes ago
  const creating = `rc-${suffix}-2`;
  await insertDatabase(db.store, { id: creating, tenantId: null, spec, secrets: newDatabaseSecrets(), state: 'creating' });
  await db.store.query("UPDATE databases SET updated_at = now() - interval '2 minutes' WHERE id = $1", [creating]);

  const log = path.join(dir, 'worker.log');
  worker = startWorkerProcess(db.url, 'host-1', { controlPlaneOnly: true, logFile: log, env: { PGCP_LOG_LEVEL: 'info' } });
  await waitFor('the worker ready', async () => readFileSync(log, 'utf8').includes('worker ready'), 120_000, 250);
  const ready = Date.now();
  await waitFor('both databases failed', async () =>
    (await getDatabase(db.store, modifying))?.state === 'failed' && (await getDatabase(db.store, creating))?.state === 'failed', 15_000, 250);
  console.log(`reconciled ${Date.now() - ready} ms after the worker was ready`);
  expect(await getDatabaseLock(db.store, modifying)).toBeNull();
});
