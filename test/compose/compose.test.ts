// The production stack as docker-compose.yml runs it — the Temporal server on Postgres, its UI, the store, etcd,
// the API, the control-plane worker and a host agent, all built here — brought up as its own project: the seed
// walkthrough against its API, its tasks in its Temporal UI in the server's order, and nothing left after
// `docker-compose down -v`. Needs `scripts/setup.sh --compose` (npm test runs setup with --test, which includes it).
import pg from 'pg';
import { etcdPost } from '../../activities/etcd.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { composeUp, type ComposeStack } from '../support/compose-stack.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const project = `pgcp-test-${Math.random().toString(36).slice(2, 7)}`;
const id = 'example';
const port = await freePorts(3);
let stack: (ComposeStack & { upMs: number }) | null = null;

const spec = {
  database_name: 'example',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: ['n1', 'n2', 'n3'].map((name, i) => ({ name, host_ids: ['host-1'], port: port + i })),
};

async function sql(node: number, text: string) {
  const c = new pg.Client({ host: '127.0.0.1', port: port + node - 1, user: 'admin', password: 'password', database: 'example', connectionTimeoutMillis: 3000 });
  await c.connect();
  try { return (await c.query(text)).rows; } finally { await c.end(); }
}

async function finished(taskId: string) {
  const task = await waitFor(`task ${taskId}`, async () => {
    const r = await stack!.call('GET', `/v1/databases/${id}/tasks/${taskId}`);
    return ['completed', 'failed', 'canceled'].includes(r.body?.status) ? r.body : null;
  }, 300_000, 1000);
  expect(task.status, task.error).toBe('completed');
}

beforeAll(async () => {
  stack = await composeUp(project);
  console.log(`compose stack up (build + start) in ${(stack.upMs / 1000).toFixed(1)} s`);
}, 1_200_000);

afterAll(async () => {
  if (!stack) return;
  if ((await stack.call('GET', `/v1/databases/${id}`).catch(() => null))?.status === 200) {
    const del = await stack.call('DELETE', `/v1/databases/${id}?force=true`);
    if (del.status === 200) await finished(del.body.task.task_id).catch(() => undefined);
  }
  const left = await stack.down();
  expect(left, 'docker-compose down -v leaves no container, volume or network').toEqual({ containers: [], volumes: [], networks: [] });
}, 300_000);

it('runs the seed walkthrough, shows its tasks in the Temporal UI newest first, and deletes', async () => {
  const s = stack!;
  expect((await s.call('GET', '/v1/cluster/init')).status).toBe(200);
  await waitFor('host-1 healthy', async () => (await s.call('GET', '/v1/hosts/host-1')).body?.status?.state === 'healthy', 60_000);
  const created = await s.call('POST', '/v1/databases', { id, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  await finished(created.body.task.task_id);

  // etcd speaks TLS only, and answers no one without credentials (the databases' Patroni each have their own user).
  const anonymous = (await etcdPost(s.etcdUrl, '/v3/kv/range', JSON.stringify({ key: Buffer.from('/').toString('base64'), range_end: Buffer.from('0').toString('base64') }), {}, s.etcdCa)).text;
  expect(anonymous).toMatch(/user name is empty/);
  const plain = await etcdPost(s.etcdUrl.replace('https:', 'http:'), '/v3/kv/range', '{}', {}, null).then((r) => r.status, () => 'refused');
  expect([400, 'refused']).toContain(plain);

  await sql(1, 'CREATE TABLE t (id int PRIMARY KEY, v text)');
  await waitFor('table t on n2', async () => (await sql(2, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
  await sql(2, "INSERT INTO t VALUES (1, 'from n2')");
  await waitFor('n2\'s row on n1', async () => (await sql(1, 'SELECT v FROM t WHERE id = 1'))[0]?.v === 'from n2', 30_000);

  // A second task, so that order shows: an update with the same spec.
  const updated = await s.call('POST', `/v1/databases/${id}`, { spec });
  expect(updated.status, JSON.stringify(updated.body)).toBe(200);
  await finished(updated.body.task.task_id);
  const newestFirst = [updated.body.task.task_id, created.body.task.task_id];
  expect((await s.call('GET', `/v1/databases/${id}/tasks`)).body.tasks.map((t: any) => t.task_id)).toEqual(newestFirst);

  // The Temporal UI lists the same workflows, in the visibility store's own order (Postgres: newest first).
  const query = encodeURIComponent(`DatabaseId = '${id}'`);
  // Visibility is updated a moment after a task closes: wait until both are listed (the last answer names any error).
  const listed = await waitFor('the Temporal UI listing both tasks', async () => {
    const body = await (await fetch(`${s.uiUrl}/api/v1/namespaces/pgcp/workflows?query=${query}`)).json() as any;
    if (body.executions?.length !== 2) throw new Error(`the UI answered ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  }, 30_000);
  expect(listed.executions.map((e: any) => e.execution.workflowId)).toEqual(newestFirst);
  expect(listed.executions.map((e: any) => e.type.name)).toEqual(['updateDatabase', 'createDatabase']);
  const page = await fetch(`${s.uiUrl}/namespaces/pgcp/workflows/${created.body.task.task_id}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<html');

  const del = await s.call('DELETE', `/v1/databases/${id}`);
  expect(del.status).toBe(200);
  await finished(del.body.task.task_id);
  expect((await s.call('GET', `/v1/databases/${id}`)).status).toBe(404);
}, 900_000);
