// pgEdge's local-backup-and-restore walkthrough, as written (issue 18): the posix repository is a host directory
// mounted into the database's containers with orchestrator_opts.swarm.extra_volumes at /backups, and every
// restore_config names it by that container path. Create, full backup, add a node from the backup, create a clone
// from the backup, restore in place to an RFC 3339 time, remove the backup config, delete: every task completes, the
// data checks hold, and nothing of either database is left. One host, one node to start with.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
let s: ApiStack;
const id = `walk-${Math.random().toString(36).slice(2, 7)}`;
const clone = `${id}-clone`;
const port = await freePorts(3);
const ports = { n1: port, n2: port + 1, clone: port + 2 };
// the volume's host path is held to the repositories' host-path policy: inside PGCP_REPOSITORY_ROOTS' default
mkdirSync(path.join(defaultRepositoryRoot, 'test'), { recursive: true });
const backups = mkdtempSync(path.join(defaultRepositoryRoot, 'test', 'walkthrough-'));
chmodSync(backups, 0o755);

const users = [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }];
const orchestrator_opts = { swarm: { extra_volumes: [{ host_path: backups, destination_path: '/backups' }] } };
const repository = { type: 'posix', base_path: '/backups' };
const backup_config = { repositories: [repository] };
const fromBackup = { source_database_id: id, source_node_name: 'n1', source_database_name: 'storefront', repository };
const n1 = { name: 'n1', host_ids: ['host-1'], port: ports.n1 };
const n2 = { name: 'n2', host_ids: ['host-1'], port: ports.n2 };
const spec = (nodes: object[], backups = true) => ({
  database_name: 'storefront', database_users: users, orchestrator_opts, nodes, ...(backups ? { backup_config } : {}),
});

const sql = (p: number, text: string, params: unknown[] = []) => query(nodeConnection(p, { password: 'password', database: 'storefront' }), text, params);
const completed = async (databaseId: string, r: { status: number; text: string; body: any }) => {
  expect(r.status, r.text).toBe(200);
  const task = await waitForTask(s.call, databaseId, r.body.task.task_id, { intervalMs: 500 });
  expect(task.status, task.error).toBe('completed');
  return task;
};
const count = async (p: number, table = 'products') => (await sql(p, `SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

beforeAll(async () => {
  s = await startApiStack(['host-1']);
}, 120_000);

afterAll(async () => {
  if (s) for (const d of [clone, id]) await forceDeleteDatabase(s.call, d);
  await s?.stop();
  rmSync(backups, { recursive: true, force: true });
});

it('create, full backup, a node and a clone from the backup, in-place restore to an RFC 3339 time, backups off, delete', async () => {
  const started = Date.now();
  // 1. create with backup_config; the repository at /backups inside the extra volume
  await completed(id, await s.call('POST', '/v1/databases', { id, spec: spec([n1]) }));
  await sql(ports.n1, 'CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL)');
  await sql(ports.n1, "INSERT INTO products SELECT g, 'product ' || g FROM generate_series(1, 1000) g");

  // 2. full backup, written to the host directory
  await completed(id, await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' }));
  expect(existsSync(path.join(backups, 'databases', id, 'n1', 'backup', 'db', 'backup.info'))).toBe(true);

  // 3 and 4, side by side: n2 added from n1's backup, and a new database created from it
  const [, cloneTask] = await Promise.all([
    s.call('POST', `/v1/databases/${id}`, { spec: spec([n1, { ...n2, restore_config: fromBackup }]) }).then((r) => completed(id, r)),
    s.call('POST', '/v1/databases', {
      id: clone, spec: { ...spec([{ name: 'n1', host_ids: ['host-1'], port: ports.clone }], false), restore_config: fromBackup },
    }).then((r) => completed(clone, r)),
  ]);
  expect(cloneTask.type).toBe('create');
  expect(await count(ports.clone)).toBe(1000);
  expect(await count(ports.n2)).toBe(1000);
  await sql(ports.n1, "INSERT INTO products SELECT g, 'product ' || g FROM generate_series(1001, 1100) g");
  await waitFor('n1\'s rows on n2', async () => (await count(ports.n2)) === 1100, 60_000);
  await sql(ports.n2, "INSERT INTO products VALUES (5000, 'from n2')");
  await waitFor('n2\'s row on n1', async () => (await sql(ports.n1, 'SELECT 1 FROM products WHERE id = 5000')).length === 1, 30_000);

  // 5. restore n1 in place to a time written as the reference writes it (RFC 3339)
  const target = (await sql(ports.n1, `SELECT to_char((now() + interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t`))[0].t as string;
  await new Promise((r) => setTimeout(r, 2500));
  await sql(ports.n1, 'CREATE TABLE after_target (id int PRIMARY KEY)');
  const restore = await completed(id, await s.call('POST', `/v1/databases/${id}/restore`, {
    restore_config: { ...fromBackup, restore_options: { type: 'time', target } }, target_nodes: ['n1'],
  }));
  expect(restore.type).toBe('restore');
  expect(await count(ports.n1)).toBe(1101);
  expect((await sql(ports.n1, "SELECT to_regclass('public.after_target') IS NULL AS gone"))[0].gone).toBe(true);
  await sql(ports.n1, "INSERT INTO products VALUES (6000, 'after the restore')");
  await sql(ports.n2, "INSERT INTO products VALUES (6001, 'after the restore')");
  await waitFor('n1\'s row on n2 after the restore', async () => (await sql(ports.n2, 'SELECT 1 FROM products WHERE id = 6000')).length === 1, 60_000);
  await waitFor('n2\'s row on n1 after the restore', async () => (await sql(ports.n1, 'SELECT 1 FROM products WHERE id = 6001')).length === 1, 60_000);

  // 6. backup config removed: the update completes and backups are refused from then on
  await completed(id, await s.call('POST', `/v1/databases/${id}`, { spec: spec([n1, n2], false) }));
  const refused = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
  expect(refused).toMatchObject({ status: 400, body: { message: 'backups are not configured for this database node' } });

  // 7. delete both: nothing of either is left
  for (const d of [clone, id]) await completed(d, await s.call('DELETE', `/v1/databases/${d}`));
  for (const d of [clone, id]) {
    expect((await s.call('GET', `/v1/databases/${d}`)).status).toBe(404);
    const filters = JSON.stringify({ label: [`${labels.databaseId}=${d}`] });
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
  }
  console.log(`backup walkthrough: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}, 600_000);
