// What the crash-safety tests share: the API in the test process over a worker in a child process (so it can be
// SIGKILLed and started again), and the calls they make against one database whose nodes listen on 127.0.0.1.
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { createTestApp, type TestApp } from './app.js';
import { waitFor } from './wait.js';
import { killWorker, startWorkerProcess } from './worker-process.js';

export interface CrashHarness {
  call: (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;
  /** A query on node `n` of the database, as its admin user. */
  sql: (n: string, text: string) => Promise<any[]>;
  /** Until the task ends; it must have completed. */
  completed: (taskId: string) => Promise<void>;
  /** SIGKILLs the worker process and starts a new one. */
  restartWorker: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function startCrashHarness(databaseId: string, port: (node: string) => number): Promise<CrashHarness> {
  const stack = inject('stack');
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: stack.namespace });
  const t: TestApp = await createTestApp({ temporal });
  let worker: ChildProcess | null = null;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await t.app.request(url, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const sql = async (n: string, text: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: port(n), user: 'admin', password: 'password', database: 'app', connectionTimeoutMillis: 3000 });
    await c.connect();
    try { return (await c.query(text)).rows; } finally { await c.end(); }
  };
  const completed = async (taskId: string) => {
    const task = await waitFor(`task ${taskId}`, async () => {
      const r = await call('GET', `/v1/databases/${databaseId}/tasks/${taskId}`);
      return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : null;
    }, 600_000, 1000);
    expect(task.status, task.error).toBe('completed');
  };
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  worker = startWorkerProcess(t.db.url);
  await waitFor('worker heartbeat', async () => (await call('GET', '/v1/hosts/host-1')).body.status?.state === 'healthy', 60_000);
  return {
    call, sql, completed,
    restartWorker: async () => {
      if (worker) await killWorker(worker);
      worker = startWorkerProcess(t.db.url);
    },
    stop: async () => {
      const del = await call('DELETE', `/v1/databases/${databaseId}?force=true`).catch(() => null);
      if (del?.status === 200) await completed(del.body.task.task_id).catch(() => undefined);
      if (worker) await killWorker(worker);
      await temporal.connection.close();
      await t.db.drop();
    },
  };
}
