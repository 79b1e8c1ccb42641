// Crash safety: the worker process is SIGKILLed in the middle of a create; a new one picks the same task up and
// finishes it, with no duplicate container or subscription, because every step checks before it acts.
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { createDocker, labels } from '../../activities/docker/client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { killWorker, startWorkerProcess } from '../support/worker-process.js';

const docker = createDocker();
const id = `crash-${Math.random().toString(36).slice(2, 7)}`;
const port = 25000 + Math.floor(Math.random() * 800) * 3;
let t: TestApp;
let temporal: Client;
let worker: ChildProcess | null = null;

const startWorker = () => startWorkerProcess(t.db.url);

async function call(method: string, url: string, body?: unknown) {
  const res = await t.app.request(url, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const stack = inject('stack');
  temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: stack.namespace });
  t = await createTestApp({ temporal });
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  worker = startWorker();
  await waitFor('worker heartbeat', async () => (await call('GET', '/v1/hosts/host-1')).body.status?.state === 'healthy', 60_000);
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await temporal?.connection.close();
  await t?.db.drop();
});

it('a create whose worker is killed mid-way finishes with the next worker, without duplicates', async () => {
  const spec = {
    database_name: 'app', database_users: [{ username: 'admin', password: 'password', attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: ['n1', 'n2', 'n3'].map((name, i) => ({ name, host_ids: ['host-1'], port: port + i })),
  };
  const created = await call('POST', '/v1/databases', { id, spec });
  const taskId = created.body.task.task_id;
  // Kill as soon as the first instance container exists: the create is mid-way through its instance phase.
  await waitFor('a first container', async () => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) })).length > 0, 60_000, 50);
  await killWorker(worker!);
  worker = startWorker();

  await waitFor('task completed', async () => (await call('GET', `/v1/databases/${id}/tasks/${taskId}`)).body.status === 'completed', 300_000, 1000);
  expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
  expect(containers.map((c) => c.Names[0]).sort()).toEqual(['n1', 'n2', 'n3'].map((n) => `/${id}-${n}-689qacsi`));
  for (let i = 0; i < 3; i++) {
    const c = new pg.Client({ host: '127.0.0.1', port: port + i, user: 'admin', password: 'password', database: 'app' });
    await c.connect();
    const { rows } = await c.query('SELECT count(*)::int AS subs, count(DISTINCT sub_name)::int AS names FROM pglogical.subscription');
    const { rows: nodes } = await c.query('SELECT count(*)::int AS n FROM pglogical.local_node');
    await c.end();
    expect(rows[0]).toEqual({ subs: 2, names: 2 });
    expect(nodes[0].n).toBe(1);
  }

  const del = await call('DELETE', `/v1/databases/${id}`);
  await waitFor('deleted', async () => (await call('GET', `/v1/databases/${id}/tasks/${del.body.task.task_id}`)).body.status === 'completed', 120_000, 1000);
});
