// Day 2 on real Docker, Patroni, pglogical and Temporal: a node added under a constant write load, a node removed,
// configuration and users changed, all by POSTing the changed spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { recordHistory } from '../support/histories.js';
import { nodeConnection, query } from '../support/sql.js';
import { waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const docker = createDocker();
const dbId = `day2-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(10);
const port = (n: string) => basePort + Number(n.slice(1));
const admin = { username: 'admin', password: 'admin-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const nodeSpec = (n: string) => ({ name: n, host_ids: ['host-1'], port: port(n) });
let spec: any = { database_name: 'app', database_users: [admin], nodes: ['n1', 'n2', 'n3'].map(nodeSpec) };
const SEED = 5000;

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => { await s?.stop(); });

const sql = (n: string, text: string, params: unknown[] = [], user = { name: 'admin', password: 'admin-pw' }) =>
  query(nodeConnection(port(n), { user: user.name, password: user.password }), text, params);

async function update(next: unknown, query = '') {
  const r = await s.call('POST', `/v1/databases/${dbId}${query}`, { spec: next });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function finish(taskId: string, timeoutMs = 300_000) {
  const task = await waitForTask(s.call, dbId, taskId, { timeoutMs });
  if (task.status !== 'completed') {
    const log = await s.call('GET', `/v1/databases/${dbId}/tasks/${taskId}/log`);
    throw new Error(`task ${taskId} ${task.status}: ${log.body.entries.slice(-5).map((e: any) => e.message).join(' | ')}`);
  }
  return task;
}

/** Row count and an order-independent checksum of table t on a node. */
async function fingerprint(n: string) {
  return (await sql(n, "SELECT count(*)::int AS n, coalesce(md5(string_agg(id || ':' || payload, ',' ORDER BY id)), '') AS sum FROM t"))[0];
}

async function converged(nodes: string[], expected: number) {
  return waitFor(`${expected} rows on ${nodes.join(', ')}`, async () => {
    const prints = await Promise.all(nodes.map(fingerprint));
    return prints.every((p) => p.n === expected && p.sum === prints[0].sum) ? prints : null;
  }, 120_000, 1000);
}

describe('a 3-node database', () => {
  it('is created, with a table holding seed rows on every node', async () => {
    const r = await s.call('POST', '/v1/databases', { id: dbId, spec });
    expect(r.status, r.text).toBe(200);
    await finish(r.body.task.task_id);
    await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
    await sql('n1', "INSERT INTO t SELECT 'seed-' || g, 'seed', md5(g::text) FROM generate_series(1, $1::int) g", [SEED]);
    await converged(['n1', 'n2', 'n3'], SEED);
  });

  it('?dry_run=true returns the plan of adding n4 and changes nothing', async () => {
    const before = await s.call('GET', `/v1/databases/${dbId}`);
    const r = await update({ ...spec, nodes: [...spec.nodes, nodeSpec('n4')] }, '?dry_run=true');
    expect(r.task).toBeUndefined();
    expect(r.plan.join('\n')).toMatch(/adding node n4 without downtime: copy from n1, slots first on n2, n3/);
    const after = await s.call('GET', `/v1/databases/${dbId}`);
    expect(after.body.state).toBe('available');
    expect(after.body.spec.nodes.map((n: any) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(after.body.updated_at).toBe(before.body.updated_at);
    const tasks = await s.call('GET', `/v1/databases/${dbId}/tasks`);
    expect(tasks.body.tasks.map((t: any) => t.type)).toEqual(['create']);
  });

  it('gets n4 under 20 rows/s on n1 and n2: 0 failed writes, then every row on all 4 nodes, same checksum', async () => {
    const writer = await startWriter([{ node: 'n1', port: port('n1') }, { node: 'n2', port: port('n2') }], {
      user: 'admin', password: 'admin-pw', database: 'app', table: 't', ratePerSecond: 20,
    });
    await new Promise((r) => setTimeout(r, 2000));
    spec = { ...spec, nodes: [...spec.nodes, nodeSpec('n4')] };
    const started = Date.now();
    const body = await update(spec);
    expect(body.database.state).toBe('modifying');
    await finish(body.task.task_id);
    const seconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    await writer.stop();
    console.log(`add-node: ${seconds.toFixed(1)} s, ${writer.acknowledged.length} rows acknowledged meanwhile, ${writer.errors.length} write errors`);
    expect(writer.errors).toEqual([]);
    expect(writer.acknowledged.length).toBeGreaterThan(100);
    const prints = await converged(['n1', 'n2', 'n3', 'n4'], SEED + writer.acknowledged.length);
    const ids = new Set((await sql('n4', "SELECT id FROM t WHERE node <> 'seed'")).map((r) => r.id));
    expect(writer.acknowledged.filter((a) => !ids.has(a.id))).toEqual([]);
    expect(new Set(prints.map((p) => p.sum)).size).toBe(1);

    const log = await s.call('GET', `/v1/databases/${dbId}/tasks/${body.task.task_id}/log`);
    const text = log.body.entries.map((e: any) => e.message).join('\n');
    expect(text.indexOf('plan:')).toBeLessThan(text.indexOf('reserving slot'));
    expect(text).toMatch(/pausing node n1's intake from n2, n3/);
    await recordHistory(s.workers.client, body.task.task_id, 'add-node');
  });

  it('n4 replicates both ways: a row written on n4 reaches every node, and the other way round', async () => {
    await sql('n4', "INSERT INTO t VALUES ('from-n4', 'n4', 'x')");
    await sql('n3', "INSERT INTO t VALUES ('from-n3', 'n3', 'y')");
    for (const n of ['n1', 'n2', 'n3', 'n4']) {
      await waitFor(`both rows on ${n}`, async () => (await sql(n, "SELECT count(*)::int AS c FROM t WHERE id IN ('from-n4', 'from-n3')"))[0].c === 2, 30_000);
    }
  });

  it('loses n2: n1, n3 and n4 keep replicating, and nothing of n2 remains', async () => {
    spec = { ...spec, nodes: spec.nodes.filter((n: any) => n.name !== 'n2') };
    await finish((await update(spec)).task.task_id);
    await sql('n3', "INSERT INTO t VALUES ('after-n2', 'n3', 'z')");
    const expected = (await fingerprint('n3')).n;
    await converged(['n1', 'n3', 'n4'], expected);
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${dbId}`] }) });
    expect(containers.map((c) => c.Names[0]).sort()).toEqual(['n1', 'n3', 'n4'].map((n) => `/${dbId}-${n}-689qacsi`));
    const volumes = await docker.listVolumes();
    expect((volumes.Volumes ?? []).map((v) => v.Name).filter((v) => v.startsWith(`${dbId}-n2-`))).toEqual([]);
    for (const n of ['n1', 'n3', 'n4']) {
      const slots = (await sql(n, 'SELECT slot_name FROM pg_replication_slots')).map((r) => r.slot_name);
      const subs = (await sql(n, 'SELECT sub_name FROM pglogical.subscription')).map((r) => r.sub_name);
      expect(slots.filter((x) => /n2/.test(x)), `slots on ${n}`).toEqual([]);
      expect(subs.filter((x) => /n2/.test(x)), `subscriptions on ${n}`).toEqual([]);
      expect(subs).toHaveLength(2);
    }
    const db = await s.call('GET', `/v1/databases/${dbId}`);
    expect(db.body.instances.map((i: any) => i.node_name).sort()).toEqual(['n1', 'n3', 'n4']);
  });

  it('applies a reload-level parameter without a restart, and shows a restart-level one as pending_restart', async () => {
    const started = (await sql('n1', 'SELECT pg_postmaster_start_time()::text AS t'))[0].t;
    spec = { ...spec, postgresql_conf: { work_mem: '12MB', shared_buffers: '192MB' } };
    await finish((await update(spec)).task.task_id);
    for (const n of ['n1', 'n3', 'n4']) expect((await sql(n, 'SHOW work_mem'))[0].work_mem).toBe('12MB');
    expect((await sql('n1', 'SELECT pg_postmaster_start_time()::text AS t'))[0].t).toBe(started);
    expect((await sql('n1', 'SHOW shared_buffers'))[0].shared_buffers).not.toBe('192MB');
    await waitFor('pending_restart on every instance', async () => {
      const db = await s.call('GET', `/v1/databases/${dbId}`);
      return db.body.instances.every((i: any) => i.postgres?.pending_restart === true);
    }, 30_000);
  });

  it('adds a user, changes its password, removes it; logins follow; a user owning a table is not removed', async () => {
    const login = (n: string, password: string) => sql(n, 'SELECT current_user AS u', [], { name: 'carol', password }).then((r) => r[0].u, (e: Error) => e.message);
    spec = { ...spec, database_users: [admin, { username: 'carol', password: 'first-pw', attributes: ['LOGIN'] }] };
    await finish((await update(spec)).task.task_id);
    for (const n of ['n1', 'n3', 'n4']) expect(await login(n, 'first-pw')).toBe('carol');

    spec = { ...spec, database_users: [admin, { username: 'carol', password: 'second-pw', attributes: ['LOGIN'] }] };
    await finish((await update(spec)).task.task_id);
    expect(await login('n3', 'second-pw')).toBe('carol');
    expect(await login('n3', 'first-pw')).toMatch(/password authentication failed/);

    // an omitted password keeps the current one
    spec = { ...spec, database_users: [admin, { username: 'carol', attributes: ['LOGIN'] }] };
    await finish((await update(spec)).task.task_id);
    expect(await login('n4', 'second-pw')).toBe('carol');

    await sql('n1', 'CREATE TABLE carols (id int PRIMARY KEY)');
    await sql('n1', 'ALTER TABLE carols OWNER TO carol');
    spec = { ...spec, database_users: [admin] };
    const refused = await update(spec);
    const task = await waitFor('refused', async () => {
      const r = await s.call('GET', `/v1/databases/${dbId}/tasks/${refused.task.task_id}`);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : null;
    }, 120_000, 1000);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/user carol owns 1 object\(s\) in database app.*nothing was changed/);
    expect(await login('n1', 'second-pw')).toBe('carol'); // nothing changed

    await sql('n1', 'ALTER TABLE carols OWNER TO admin'); // reassigned, as the error suggests
    await finish((await update(spec)).task.task_id);
    for (const n of ['n1', 'n3', 'n4']) expect(await login(n, 'second-pw')).toMatch(/password authentication failed|role "carol" does not exist/);
  });
});
