// Issue 18 on a 2-node PG 17 database: the creation scripts (pgEdge §5.1) ran once on every node at the points the
// reference names, their results are in the task log, a node added later does not run them; a script statement
// that fails fails the create naming it; CREATE EXTENSION vector and rows with vector columns replicate both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { expectTaskCompleted, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const dbId = `scripts-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(10);
const port = (n: string) => basePort + Number(n.slice(1));
const admin = { username: 'admin', password: 'admin-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const node = (name: string) => ({ name, host_ids: ['host-1'], port: port(name) });
const scripts = {
  post_init: ['CREATE ROLE reporting NOLOGIN', "COMMENT ON ROLE reporting IS 'made by post_init'"],
  post_database_create: [
    'CREATE TABLE seeded (id int PRIMARY KEY, note text)',
    "INSERT INTO seeded VALUES (1, 'from post_database_create')",
    'GRANT SELECT ON seeded TO reporting',
  ],
};
const spec = (...names: string[]) => ({ database_name: 'app', postgres_version: '17.12', database_users: [admin], scripts, nodes: names.map(node) });

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => { await s?.stop(); });

const sql = (n: string, text: string, params: unknown[] = [], database = 'app') =>
  query(nodeConnection(port(n), { password: 'admin-pw', database }), text, params);
const logOf = async (taskId: string, id = dbId) => ((await s.call('GET', `/v1/databases/${id}/tasks/${taskId}/log`)).body.entries as { message: string }[]).map((e) => e.message);
const scriptsRan = async (n: string) => (await sql(n, "SELECT to_regclass('pgcp.script_results') IS NOT NULL AS t", [], 'postgres'))[0].t
  ? (await sql(n, 'SELECT script FROM pgcp.script_results', [], 'postgres')).map((r) => r.script) : [];

describe('creation scripts and extensions on PG 17', () => {
  let createTask = '';

  it('runs post_init and post_database_create once on each node at creation, and logs what each statement did', async () => {
    const r = await s.call('POST', '/v1/databases', { id: dbId, spec: spec('n1', 'n2') });
    expect(r.status, r.text).toBe(200);
    createTask = r.body.task.task_id;
    await expectTaskCompleted(s.call, dbId, createTask);
    for (const n of ['n1', 'n2']) {
      expect((await sql(n, "SELECT shobj_description(oid, 'pg_authid') AS c FROM pg_roles WHERE rolname = 'reporting'"))[0]?.c, n).toBe('made by post_init');
      expect(await sql(n, 'SELECT id, note FROM seeded'), n).toEqual([{ id: 1, note: 'from post_database_create' }]);
      expect((await sql(n, "SELECT has_table_privilege('reporting', 'seeded', 'SELECT') AS ok"))[0].ok, n).toBe(true);
      expect(await scriptsRan(n), n).toEqual(['post_init']);
    }
    const log = await logOf(createTask);
    for (const n of ['n1', 'n2']) {
      expect(log).toContain(`post_init[0] on node ${n}: CREATE`);
      expect(log).toContain(`post_database_create[1] on node ${n}: INSERT 1`);
    }
  });

  it('the scripts\' tables are in the replication sets: rows flow both ways', async () => {
    await sql('n1', "INSERT INTO seeded VALUES (2, 'from n1')");
    await sql('n2', "INSERT INTO seeded VALUES (3, 'from n2')");
    for (const n of ['n1', 'n2']) await waitFor(`3 rows on ${n}`, async () => (await sql(n, 'SELECT count(*)::int AS c FROM seeded'))[0].c === 3, 60_000);
  });

  it('CREATE EXTENSION vector replicates, and rows with vector columns replicate both ways', async () => {
    await sql('n1', 'CREATE EXTENSION vector');
    await waitFor('vector on n2', async () => (await sql('n2', "SELECT extversion FROM pg_extension WHERE extname = 'vector'")).length === 1, 60_000);
    await sql('n1', 'CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    await waitFor('items on n2', async () => (await sql('n2', "SELECT to_regclass('items') IS NOT NULL AS t"))[0].t, 60_000);
    await sql('n1', "INSERT INTO items VALUES (1, '[1,0,0]')");
    await sql('n2', "INSERT INTO items VALUES (2, '[0,1,0]')");
    for (const n of ['n1', 'n2']) await waitFor(`2 vectors on ${n}`, async () => (await sql(n, 'SELECT count(*)::int AS c FROM items'))[0].c === 2, 60_000);
    expect(await sql('n1', "SELECT id FROM items ORDER BY embedding <-> '[0,0.9,0]' LIMIT 1")).toEqual([{ id: 2 }]);
  });

  it('a node added later does not run the scripts: it gets the data and roles from its source', async () => {
    const r = await s.call('POST', `/v1/databases/${dbId}`, { spec: spec('n1', 'n2', 'n3') });
    expect(r.status, r.text).toBe(200);
    await expectTaskCompleted(s.call, dbId, r.body.task.task_id);
    expect(await scriptsRan('n3')).toEqual([]); // post_init never ran there
    expect((await sql('n3', 'SELECT count(*)::int AS c FROM seeded'))[0].c).toBe(3); // copied, not seeded again
    expect((await sql('n3', 'SELECT count(*)::int AS c FROM items'))[0].c).toBe(2);
    expect((await logOf(r.body.task.task_id)).filter((l) => /post_init|post_database_create/.test(l))).toEqual([]);
    for (const n of ['n1', 'n2']) expect(await scriptsRan(n), n).toEqual(['post_init']); // and the others ran nothing again
  });

  it('a statement that fails at run time fails the create, naming it, and keeps nothing of its script', async () => {
    const badId = `${dbId}-bad`;
    const bad = { ...spec(), nodes: [{ name: 'n1', host_ids: ['host-1'], port: basePort + 9 }], scripts: { post_database_create: ['CREATE TABLE kept (id int)', 'INSERT INTO missing_table VALUES (1)'] } };
    const r = await s.call('POST', '/v1/databases', { id: badId, spec: bad });
    expect(r.status, r.text).toBe(200);
    const task = await waitForTask(s.call, badId, r.body.task.task_id);
    expect(task.status).toBe('failed');
    expect(task.error).toContain('scripts.post_database_create[1] failed on node n1: relation "missing_table" does not exist');
    expect(task.error).toContain('"INSERT INTO missing_table VALUES (1)"');
    const kept = await query(nodeConnection(basePort + 9, { password: 'admin-pw', database: 'app' }), "SELECT to_regclass('kept') IS NOT NULL AS t");
    expect(kept[0].t).toBe(false);
  });
});
