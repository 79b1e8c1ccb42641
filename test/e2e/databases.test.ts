// pgEdge's "zero to multi-master" walkthrough against our API, on real Docker, Patroni, pglogical and Temporal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { getDatabaseSecrets } from '../../store/databases.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { recordHistory } from '../support/histories.js';
import { nodeConnection, query } from '../support/sql.js';
import { waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const dbId = `example-${suffix}`;
const basePort = await freePorts(10);
const spec = {
  database_name: 'example',
  database_users: [
    { username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] },
    { username: 'app', password: 'app-pw-5', attributes: ['LOGIN'] },
  ],
  port: 0,
  postgresql_conf: { work_mem: '8MB' },
  pg_hba_conf: ['host example admin 10.99.0.0/16 scram-sha-256'],
  nodes: [
    { name: 'n1', host_ids: ['host-1'], port: basePort },
    { name: 'n2', host_ids: ['host-1'], port: basePort + 1, postgresql_conf: { work_mem: '16MB' } },
    { name: 'n3', host_ids: ['host-1'], port: basePort + 2 },
  ],
};
const seen: string[] = []; // every response body, checked for secrets at the end

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => { await s?.stop(); });

async function call(method: string, path: string, body?: unknown) {
  const r = await s.call(method, path, body);
  seen.push(r.text);
  return r;
}

const waitTask = (db: string, taskId: string) => waitForTask(call, db, taskId);
const sql = (port: number, text: string, params: unknown[] = []) => query(nodeConnection(port, { password: 'password', database: 'example' }), text, params);

async function rowsOf(port: number): Promise<number[]> {
  const rows = await sql(port, 'SELECT id FROM items ORDER BY id');
  return rows.map((r) => Number(r.id));
}

describe('a three-node multi-master database', () => {
  let createTask = '';
  const polled: string[] = [];

  it('POST /v1/databases answers at once with a pending create task and the database creating', async () => {
    const r = await call('POST', '/v1/databases', { id: dbId, spec });
    expect(r.status).toBe(200);
    expect(r.body.task).toMatchObject({ scope: 'database', entity_id: dbId, database_id: dbId, type: 'create', status: 'pending' });
    expect(r.body.database).toMatchObject({ id: dbId, state: 'creating', spec: { database_name: 'example', spock_version: '5' } });
    expect(r.body.database.spec.database_users).toEqual([
      { username: 'admin', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] },
      { username: 'app', db_owner: false, attributes: ['LOGIN'] },
    ]);
    createTask = r.body.task.task_id;
  });

  it('a second create with the same id is 409', async () => {
    const r = await call('POST', '/v1/databases', { id: dbId, spec });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ name: 'database_already_exists', message: 'a database already exists with the given ID' });
  });

  it('becomes available with three primaries replicating in a full mesh (its log polled all along)', async () => {
    // Poll the log as a client would, with after_entry_id=<last_entry_id>, until the task is over.
    let after = '';
    for (;;) {
      const page = await call('GET', `/v1/databases/${dbId}/tasks/${createTask}/log${after ? `?after_entry_id=${after}` : ''}`);
      polled.push(...page.body.entries.map((e: any) => e.message));
      after = page.body.last_entry_id ?? after;
      if (['completed', 'failed', 'canceled'].includes(page.body.task_status)) {
        const rest = await call('GET', `/v1/databases/${dbId}/tasks/${createTask}/log?after_entry_id=${after}`);
        polled.push(...rest.body.entries.map((e: any) => e.message));
        expect(page.body.task_status).toBe('completed');
        break;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const db = await waitFor('instances reported by the monitor', async () => {
      const r = await call('GET', `/v1/databases/${dbId}`);
      const ok = r.body.state === 'available' && r.body.instances?.length === 3
        && r.body.instances.every((i: any) => i.state === 'available' && i.spock?.subscriptions?.every((x: any) => x.status === 'replicating'));
      return ok ? r.body : null;
    }, 60_000);
    expect(db.instances.map((i: any) => i.id)).toEqual([`${dbId}-n1-689qacsi`, `${dbId}-n2-689qacsi`, `${dbId}-n3-689qacsi`]);
    const n1 = db.instances[0];
    expect(n1).toMatchObject({ host_id: 'host-1', node_name: 'n1', connection_info: { addresses: ['127.0.0.1'], port: basePort }, postgres: { role: 'primary', patroni_state: 'running', pending_restart: false } });
    expect(n1.spock.subscriptions.map((x: any) => [x.name, x.provider_node]).sort()).toEqual([['sub_n1n2', 'n2'], ['sub_n1n3', 'n3']]);
    const list = await call('GET', '/v1/databases');
    expect(list.body.databases.find((d: any) => d.id === dbId)).toMatchObject({ state: 'available' });
    expect(list.body.databases[0].spec).toBeUndefined();
    await recordHistory(s.workers.client, createTask, 'three-nodes');
  });

  it('applies postgresql_conf (node level over database level), pg_hba_conf and the database owner', async () => {
    expect((await sql(basePort, 'SHOW work_mem'))[0].work_mem).toBe('8MB');
    expect((await sql(basePort + 1, 'SHOW work_mem'))[0].work_mem).toBe('16MB');
    const hba = await sql(basePort, "SELECT line_number FROM pg_hba_file_rules WHERE '10.99.0.0' = address AND 'admin' = ANY (user_name)");
    expect(hba).toHaveLength(1);
    const owner = await sql(basePort + 2, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'example'");
    expect(owner[0].owner).toBe('admin');
  });

  it('CREATE TABLE on n1 reaches every node; a row inserted on n2 reads back on n1 and n3', async () => {
    await sql(basePort, 'CREATE TABLE items (id int PRIMARY KEY, note text)');
    await waitFor('table on n2', async () => (await sql(basePort + 1, "SELECT to_regclass('public.items') AS t"))[0]?.t);
    await sql(basePort + 1, "INSERT INTO items VALUES (1, 'from n2')");
    await waitFor('row on n1', async () => (await rowsOf(basePort)).includes(1));
    await waitFor('row on n3', async () => (await rowsOf(basePort + 2)).includes(1));
  });

  it('DDL by an ordinary user replicates too, owned by that user on every node', async () => {
    await sql(basePort, 'GRANT CREATE ON SCHEMA public TO app');
    const asApp = (port: number, text: string) => query(nodeConnection(port, { user: 'app', password: 'app-pw-5', database: 'example' }), text);
    await waitFor('grant on n2', async () => (await sql(basePort + 1, "SELECT has_schema_privilege('app', 'public', 'CREATE') AS ok"))[0]?.ok);
    await asApp(basePort, 'CREATE TABLE app_notes (id int PRIMARY KEY)');
    const owner = await waitFor('app_notes on n2', async () => (await sql(basePort + 1, "SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'app_notes'"))[0]?.o);
    expect(owner).toBe('app');
    await asApp(basePort + 1, 'INSERT INTO app_notes VALUES (1)');
    await waitFor('row on n3', async () => (await sql(basePort + 2, 'SELECT count(*)::int AS n FROM app_notes'))[0]?.n === 1);
  });

  it('a node that was down catches up by itself when it is back', async () => {
    const n2 = `${dbId}-n2-689qacsi`;
    await docker.getContainer(n2).stop({ t: 5 });
    await sql(basePort, "INSERT INTO items VALUES (2, 'while n2 was down'), (3, 'also')");
    await waitFor('rows on n3', async () => (await rowsOf(basePort + 2)).includes(3));
    await waitFor('n2 shown as stopped', async () => (await call('GET', `/v1/databases/${dbId}`)).body.instances?.find((i: any) => i.id === n2)?.state === 'stopped', 30_000);
    await docker.getContainer(n2).start();
    await waitFor('n2 has every row', async () => JSON.stringify(await rowsOf(basePort + 1)) === '[1,2,3]', 120_000);
    await waitFor('database available again', async () => (await call('GET', `/v1/databases/${dbId}`)).body.state === 'available', 60_000);
  });

  it('the create task log explains every step, and polling it returns each entry exactly once', async () => {
    const full = await call('GET', `/v1/databases/${dbId}/tasks/${createTask}/log`);
    expect(full.body).toMatchObject({ scope: 'database', entity_id: dbId, task_id: createTask, task_status: 'completed' });
    const messages: string[] = full.body.entries.map((e: any) => e.message);
    expect(messages[0]).toBe('task started');
    expect(messages.some((m) => m.startsWith('plan: '))).toBe(true);
    for (const node of ['n1', 'n2', 'n3']) {
      expect(messages).toContain(`creating instance ${dbId}-${node}-689qacsi (node ${node}) on host-1`);
      expect(messages.some((m) => m.startsWith(`finished creating instance ${dbId}-${node}-689qacsi`))).toBe(true);
    }
    expect(messages.some((m) => m.startsWith('finished subscribing node n1 to node n2 (sub_n1n2)'))).toBe(true);
    expect(messages.at(-1)).toBe('task completed');
    const finished = full.body.entries.find((e: any) => e.message.startsWith('finished creating instance'));
    expect(finished.fields).toMatchObject({ host_id: 'host-1', success: true, duration_ms: expect.any(Number) });

    // Tail with limit: the newest entries, oldest first.
    const tail = await call('GET', `/v1/databases/${dbId}/tasks/${createTask}/log?limit=3`);
    expect(tail.body.entries.map((e: any) => e.message)).toEqual(messages.slice(-3));
    expect(tail.body.last_entry_id).toBe(full.body.last_entry_id);
    // What the poller collected while the task ran: every entry exactly once, in order.
    expect(polled).toEqual(messages);
  });

  it('lists its tasks newest first', async () => {
    const r = await call('GET', `/v1/databases/${dbId}/tasks`);
    expect(r.body.tasks[0]).toMatchObject({ task_id: createTask, type: 'create', status: 'completed', completed_at: expect.any(String) });
    const global = await call('GET', `/v1/tasks?scope=database&entity_id=${dbId}`);
    expect(global.body.tasks.map((t: any) => t.task_id)).toContain(createTask);
    expect((await call('GET', `/v1/tasks?entity_id=${dbId}`)).status).toBe(400);
  });

  it('delete removes every container, volume and network of the database, and keeps its tasks', async () => {
    const r = await call('DELETE', `/v1/databases/${dbId}`);
    expect(r.status).toBe(200);
    expect(r.body.task).toMatchObject({ type: 'delete', status: 'pending' });
    expect(await waitTask(dbId, r.body.task.task_id)).toMatchObject({ status: 'completed' });
    expect((await call('GET', `/v1/databases/${dbId}`)).status).toBe(404);
    const filters = JSON.stringify({ label: [`${labels.databaseId}=${dbId}`] });
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
    const tasks = await call('GET', `/v1/databases/${dbId}/tasks`);
    expect(tasks.body.tasks.map((t: any) => t.type)).toEqual(['delete', 'create']); // newest first
    const asc = await call('GET', `/v1/databases/${dbId}/tasks?sort_order=asc&limit=1`);
    expect(asc.body.tasks.map((t: any) => t.type)).toEqual(['create']);
    const next = await call('GET', `/v1/databases/${dbId}/tasks?sort_order=asc&after_task_id=${asc.body.tasks[0].task_id}`);
    expect(next.body.tasks.map((t: any) => t.type)).toEqual(['delete']);
    expect((await call('GET', `/v1/databases/${dbId}/tasks?sort_order=up`)).body.name).toBe('invalid_enum_value');
    await recordHistory(s.workers.client, r.body.task.task_id, 'three-nodes');
  });
});

describe('cancel', () => {
  const id = `cancel-${suffix}`;
  const oneNode = { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }], database_users: [{ username: 'app', password: 'app-secret-9', attributes: ['LOGIN'] }] };

  it('cancelling a running create ends canceled and leaves the database failed; an update with the same spec converges it', async () => {
    const created = await call('POST', '/v1/databases', { id, spec: oneNode });
    const taskId = created.body.task.task_id;
    await waitFor('create running', async () => (await call('GET', `/v1/databases/${id}/tasks/${taskId}`)).body.status === 'running', 30_000, 100);
    const cancel = await call('GET', `/v1/databases/${id}/tasks/${taskId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ task_id: taskId, status: 'canceling' });
    expect(await waitTask(id, taskId)).toMatchObject({ status: 'canceled', completed_at: expect.any(String) });
    expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('failed');
    const log = await call('GET', `/v1/databases/${id}/tasks/${taskId}/log`);
    expect(log.body.entries.map((e: any) => e.message)).toEqual(expect.arrayContaining(['task is canceling', 'task successfully canceled']));
    expect((await call('GET', `/v1/databases/${id}/tasks/${taskId}/cancel`)).status).toBe(400);

    const update = await call('POST', `/v1/databases/${id}`, { spec: oneNode });
    expect(update.status).toBe(200);
    expect(update.body).toMatchObject({ task: { type: 'update', status: 'pending' }, database: { state: 'modifying' } });
    expect(await waitTask(id, update.body.task.task_id)).toMatchObject({ status: 'completed' });
    expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
    expect(containers).toHaveLength(1);

    const secrets = await getDatabaseSecrets(s.db.store, id);
    const del = await call('DELETE', `/v1/databases/${id}`);
    expect(await waitTask(id, del.body.task.task_id)).toMatchObject({ status: 'completed' });

    // No secret in any response or task log seen by this file.
    const all = seen.join('\n');
    for (const secret of ['app-secret-9', 'app-pw-5', secrets!.secrets.superuserPassword, secrets!.secrets.replicationPassword]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/"password"/);
  });
});
