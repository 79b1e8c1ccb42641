// Major version upgrade without downtime, by node replacement: a PG 15 database gets a PG 17 node through the
// zero-downtime add-node path, then loses its PG 15 node, with a writer running throughout.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { expectTaskCompleted } from '../support/tasks.js';
import { startWriter, type Writer } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const dbId = `upgrade-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(4);
const ports: Record<string, number> = { n1: basePort, n2: basePort + 1 };
const admin = { username: 'admin', password: 'admin-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const n1 = { name: 'n1', host_ids: ['host-1'], port: ports.n1 };
const n2 = { name: 'n2', host_ids: ['host-1'], port: ports.n2, postgres_version: '17.12' };
const base = { database_name: 'app', postgres_version: '15.20', database_users: [admin] };
const SEED = 3000;

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => { await s?.stop(); });

const sql = (n: string, text: string, params: unknown[] = []) => query(nodeConnection(ports[n]!, { password: 'admin-pw' }), text, params);

async function run(method: string, path: string, body: unknown) {
  const r = await s.call(method, path, body);
  expect(r.status, r.text).toBe(200);
  await expectTaskCompleted(s.call, dbId, r.body.task.task_id);
}

const writerOn = (n: string): Promise<Writer> => startWriter([{ node: n, port: ports[n]! }], { user: 'admin', password: 'admin-pw', database: 'app', table: 't', ratePerSecond: 20 });

it('moves a PG 15 database to PG 17 without refusing a write and without losing a row', async () => {
  await run('POST', '/v1/databases', { id: dbId, spec: { ...base, nodes: [n1] } });
  await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await sql('n1', "INSERT INTO t SELECT 'seed-' || g, 'seed', md5(g::text) FROM generate_series(1, $1::int) g", [SEED]);

  const onOld = await writerOn('n1');
  await run('POST', `/v1/databases/${dbId}`, { spec: { ...base, nodes: [n1, n2] } });
  expect((await sql('n2', 'SHOW server_version_num'))[0].server_version_num).toMatch(/^17/);
  // clients move to the new node, then the old one goes
  const onNew = await writerOn('n2');
  await new Promise((r) => setTimeout(r, 1000));
  await onOld.stop();
  await run('POST', `/v1/databases/${dbId}`, { spec: { ...base, nodes: [n2] } });
  await new Promise((r) => setTimeout(r, 1000));
  await onNew.stop();

  expect(onOld.errors).toEqual([]);
  expect(onNew.errors).toEqual([]);
  const acknowledged = [...onOld.acknowledged, ...onNew.acknowledged];
  console.log(`major upgrade: ${acknowledged.length} rows acknowledged during the move, 0 write errors`);
  const rows = await sql('n2', "SELECT id FROM t WHERE node <> 'seed'");
  const held = new Set(rows.map((r) => r.id));
  expect(acknowledged.filter((a) => !held.has(a.id))).toEqual([]);
  expect((await sql('n2', 'SELECT count(*)::int AS c FROM t'))[0].c).toBe(SEED + acknowledged.length);

  const db = await s.call('GET', `/v1/databases/${dbId}`);
  expect(db.body.instances.map((i: any) => [i.node_name, i.postgres?.version?.split('.')[0]])).toEqual([['n2', '17']]);
});
