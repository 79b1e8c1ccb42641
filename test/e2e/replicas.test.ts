// Read replicas across two hosts sharing this Docker engine: each host publishes on its own loopback address, so
// both instances of a node use the same port, and a multi-host connection string finds the primary.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const run = promisify(execFile);
let s: ApiStack;
const id = `ha-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);

beforeAll(async () => { s = await startApiStack(['host-1', 'host-2']); });
afterAll(async () => { await s?.stop(); });

const at = (host: string, p: number) => nodeConnection(p, { host, password: 'password' });

it('a node on two hosts gets a primary on the first and a streaming replica on the second', async () => {
  await waitFor('host-2 joined', async () => (await s.call('GET', '/v1/hosts/host-2')).body?.status?.state === 'healthy', 30_000);
  const spec = {
    database_name: 'app', port,
    database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }],
  };
  const created = await s.call('POST', '/v1/databases', { id, spec });
  expect(created.status).toBe(200);
  const db = await waitFor('available with roles reported', async () => {
    const r = await s.call('GET', `/v1/databases/${id}`);
    return r.body.state === 'available' && r.body.instances?.every((i: any) => i.postgres?.role) ? r.body : null;
  }, 180_000, 1000);
  const byId = Object.fromEntries(db.instances.map((i: any) => [i.id, i]));
  expect(byId[`${id}-n1-689qacsi`]).toMatchObject({ host_id: 'host-1', postgres: { role: 'primary' }, connection_info: { addresses: ['127.0.0.1'], port } });
  expect(byId[`${id}-n1-9ptayhma`]).toMatchObject({ host_id: 'host-2', postgres: { role: 'replica' }, connection_info: { addresses: ['127.0.0.2'], port } });
  expect(byId[`${id}-n1-9ptayhma`].spock).toBeUndefined(); // replication status is a primary's

  await query(at('127.0.0.1', port), 'CREATE TABLE t (id int PRIMARY KEY)');
  await waitFor('table on n2', async () => (await query(at('127.0.0.2', port + 1), "SELECT to_regclass('public.t') AS t"))[0]?.t);
  await query(at('127.0.0.2', port + 1), 'INSERT INTO t VALUES (7)');
  // n2's row reaches n1's primary by logical replication, then n1's replica by streaming.
  await waitFor('row on the replica', async () => {
    const rows = await query(at('127.0.0.2', port), 'SELECT pg_is_in_recovery() AS r, (SELECT count(*) FROM t WHERE id = 7)::int AS n');
    return rows[0]?.r === true && rows[0]?.n === 1;
  });
  // A client following the primary: libpq's multi-host string (node-postgres has none, so psql from the host).
  const { stdout } = await run('psql', ['-Atc', 'SELECT inet_server_port(), pg_is_in_recovery()',
    `host=127.0.0.2,127.0.0.1 port=${port},${port} user=admin dbname=app target_session_attrs=read-write`], { env: { ...process.env, PGPASSWORD: 'password' } });
  expect(stdout.trim()).toBe('5432|f');

  const del = await s.call('DELETE', `/v1/databases/${id}`);
  await waitFor('deleted', async () => (await s.call('GET', `/v1/databases/${id}`)).status === 404, 120_000, 1000);
  expect(del.body.task.type).toBe('delete');
});
