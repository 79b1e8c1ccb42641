// Backups with a posix repository: backup_config added to a running database by update (WAL archiving through
// pgBackRest, the stanza created and checked), then an on-demand full backup whose pgBackRest output is in the task
// log and whose files are in the repository. Bad input is refused naming the field.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { getDatabaseSecrets } from '../../store/databases.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { recordHistory } from '../support/histories.js';
import { nodeConnection, programOutput, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const id = `bk-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(5);
const basePath = path.join(defaultRepositoryRoot, 'test', id); // inside PGCP_REPOSITORY_ROOTS' default
const spec = (backup?: unknown) => ({
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port }, { name: 'n2', host_ids: ['host-1'], port: port + 1 }],
  ...(backup ? { backup_config: backup } : {}),
});
const posix = { repositories: [{ type: 'posix', base_path: basePath, retention_full: 2, retention_full_type: 'count' }] };

const finished = (taskId: string) => waitForTask(s.call, id, taskId, { intervalMs: 500 });

const nodePort = { n1: port, n2: port + 1, n3: port + 4 };
const sql = (text: string, node: keyof typeof nodePort = 'n1') => query(nodeConnection(nodePort[node], { password: 'password' }), text);

beforeAll(async () => {
  s = await startApiStack(['host-1']);
  const created = await s.call('POST', '/v1/databases', { id, spec: spec() });
  expect(created.status, created.text).toBe(200);
  expect((await finished(created.body.task.task_id)).status).toBe('completed');
}, 300_000);

afterAll(async () => {
  if (s) await forceDeleteDatabase(s.call, id);
  await s?.stop();
  await rm(basePath, { recursive: true, force: true });
});

it('refuses a backup while backups are not configured, and bad backup input naming the field', async () => {
  const none = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
  expect(none).toMatchObject({ status: 400, body: { name: 'invalid_input', message: 'backups are not configured for this database node' } });
  const relative = await s.call('POST', `/v1/databases/${id}`, { spec: spec({ repositories: [{ type: 'posix', base_path: 'backups' }] }) });
  expect(relative.status).toBe(400);
  expect(relative.body.message).toContain('backup_config.repositories[0].base_path');
  const noBucket = await s.call('POST', `/v1/databases/${id}`, { spec: spec({ repositories: [{ type: 's3', s3_region: 'eu-west-1' }] }) });
  expect(noBucket).toMatchObject({ status: 400, body: { message: expect.stringContaining('backup_config.repositories[0].s3_bucket: s3_bucket is required') } });
  const badKey = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full', backup_options: { 'Bad Key': '1' } });
  expect(badKey).toMatchObject({ status: 400, body: { message: expect.stringContaining('backup_options') } });
  expect((await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'weekly' })).status).toBe(400);
  expect((await s.call('POST', `/v1/databases/${id}/nodes/n9/backups`, { type: 'full' })).body.message).toBe('node n9 not found');
});

it('backup_config added by update: the stanza is made, a full backup runs with its output in the task log', async () => {
  await sql('CREATE TABLE a (id int PRIMARY KEY)');
  await sql('CREATE TABLE c (id text PRIMARY KEY)');
  await sql('INSERT INTO a SELECT generate_series(1, 1000)');
  const updated = await s.call('POST', `/v1/databases/${id}`, { spec: spec(posix) });
  expect(updated.status, updated.text).toBe(200);
  const update = await finished(updated.body.task.task_id);
  expect(update.status, update.error).toBe('completed');
  expect((await sql('SELECT count(*)::int AS n FROM a'))[0].n).toBe(1000); // data kept across the container's recreation
  expect((await sql('SHOW archive_command'))[0].archive_command).toContain('pgbackrest');

  const r = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full', annotations: { reason: 'test' } });
  expect(r.status, r.text).toBe(200);
  expect(r.body.task).toMatchObject({ type: 'node_backup', node_name: 'n1', instance_id: `${id}-n1-689qacsi` });
  const task = await finished(r.body.task.task_id);
  expect(task.status, task.error).toBe('completed');
  const log = (await s.call('GET', `/v1/databases/${id}/tasks/${task.task_id}/log`)).body.entries.map((e: { message: string }) => e.message);
  expect(log.some((m: string) => /new backup label = \d{8}-\d{6}F/.test(m))).toBe(true);
  expect(log.some((m: string) => m.includes('backup command end: completed successfully'))).toBe(true);
  expect(log.join('\n')).not.toMatch(/password/i);
  const repo = path.join(basePath, 'databases', id, 'n1');
  expect(existsSync(path.join(repo, 'backup', 'db', 'backup.info'))).toBe(true);
  expect(existsSync(path.join(repo, 'archive', 'db', 'archive.info'))).toBe(true);
  // the repository is encrypted with the database's own passphrase, which no task log shows
  const info = await programOutput(nodeConnection(port, { password: 'password' }), `pgbackrest --config=/etc/pgcp/pgbackrest.conf --stanza=db info`);
  expect(info).toMatch(/cipher: aes-256-cbc/);
  const pass = (await getDatabaseSecrets(s.deps.store, id))!.secrets.repositoryCipherPass!;
  expect(pass.length).toBeGreaterThan(40);
  expect(log.join('\n')).not.toContain(pass);
  expect(JSON.stringify((await s.call('GET', `/v1/databases/${id}`)).body)).not.toContain(pass);
  const view = await s.call('GET', `/v1/databases/${id}`);
  expect(view.body.instances.find((i: { node_name: string }) => i.node_name === 'n1').state).toBe('available');
  await recordHistory(s.workers.client, updated.body.task.task_id, 'backup-config');
  await recordHistory(s.workers.client, task.task_id, 'full');
});

it('restores n1 in place to a time before its table was dropped; replication works both ways afterwards', async () => {
  // RFC 3339, as the reference's own example writes it (pgBackRest alone refuses it: issue 18)
  const t = (await sql(`SELECT to_char((now() + interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`))[0].t as string;
  await new Promise((r) => setTimeout(r, 2000));
  await sql('INSERT INTO a SELECT generate_series(1001, 1100)'); // rows B, after T
  await sql('DROP TABLE a'); // a replicated table, dropped without CASCADE (issue 18)
  await waitFor('the drop on n2', async () => (await sql("SELECT to_regclass('public.a') IS NULL AS gone", 'n2'))[0].gone, 30_000);

  const bad = await s.call('POST', `/v1/databases/${id}/restore`, { restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath } }, target_nodes: ['n9'] });
  expect(bad).toMatchObject({ status: 400, body: { message: 'node not in db spec: [n9]' } });
  const badKey = await s.call('POST', `/v1/databases/${id}/restore`, { restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath }, restore_options: { 'Bad Key': 'x' } } });
  expect(badKey.body.message).toContain('restore_config.restore_options');
  const source = { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath } };
  const startedAt = async () => (await sql('SELECT pg_postmaster_start_time()::text AS t'))[0].t as string;
  const n1Started = await startedAt();
  // a malformed target: a 400 naming it, nothing changes
  const malformed = await s.call('POST', `/v1/databases/${id}/restore`, { restore_config: { ...source, restore_options: { type: 'time', target: '01/01/2025 01:30' } }, target_nodes: ['n1'] });
  expect(malformed).toMatchObject({ status: 400, body: { name: 'invalid_input', message: expect.stringMatching(/^restore_config\.restore_options: target "01\/01\/2025 01:30" is not a time: use RFC 3339/) } });
  // a set the repository does not hold: the task fails before anything is stopped, the database stays available
  const noSet = await s.call('POST', `/v1/databases/${id}/restore`, { restore_config: { ...source, restore_options: { set: '20200101-000000F', type: 'immediate' } }, target_nodes: ['n1'] });
  expect(noSet.status, noSet.text).toBe(200);
  const refused = await finished(noSet.body.task.task_id);
  expect(refused.status).toBe('failed');
  expect(refused.error).toMatch(/backup set 20200101-000000F is not in the repository \(it has \d{8}-\d{6}F.*; nothing was stopped/);
  const refusedChild = await finished(noSet.body.node_tasks[0].task_id);
  expect(refusedChild).toMatchObject({ status: 'failed', error: refused.error });
  const after = await s.call('GET', `/v1/databases/${id}`);
  expect(after.body.state).toBe('available');
  expect(after.body.instances.map((i: { state: string }) => i.state)).toEqual(['available', 'available']);
  expect(await startedAt()).toBe(n1Started); // n1 was never stopped

  const r = await s.call('POST', `/v1/databases/${id}/restore`, {
    restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath }, restore_options: { type: 'time', target: t } },
    target_nodes: ['n1'],
  });
  expect(r.status, r.text).toBe(200);
  expect(r.body).toMatchObject({ task: { type: 'restore' }, node_tasks: [{ type: 'node_restore', node_name: 'n1', parent_id: r.body.task.task_id }], database: { state: 'restoring' } });
  const task = await finished(r.body.task.task_id);
  const child = await s.call('GET', `/v1/databases/${id}/tasks/${r.body.node_tasks[0].task_id}`);
  expect(child.body, JSON.stringify(child.body)).toMatchObject({ status: 'completed', parent_id: task.task_id });
  expect(task.status, task.error).toBe('completed');
  const t0 = performance.now();
  expect((await sql('SELECT count(*)::int AS n FROM a'))[0].n).toBe(1000); // rows A, not B
  const log = (await s.call('GET', `/v1/databases/${id}/tasks/${child.body.task_id}/log`)).body.entries.map((e: { message: string }) => e.message);
  expect(log.some((m: string) => m.includes('restore command end: completed successfully'))).toBe(true);
  expect((await s.call('GET', `/v1/databases/${id}`)).body.state).toBe('available');

  await sql("INSERT INTO c VALUES ('from-n1')");
  await sql("INSERT INTO c VALUES ('from-n2')", 'n2');
  await waitFor('n1\'s row on n2', async () => (await sql("SELECT 1 FROM c WHERE id = 'from-n1'", 'n2')).length === 1, 30_000);
  await waitFor('n2\'s row on n1', async () => (await sql("SELECT 1 FROM c WHERE id = 'from-n2'")).length === 1, 30_000);
  expect(performance.now() - t0).toBeGreaterThan(0);
  await recordHistory(s.workers.client, task.task_id, 'in-place');
  await recordHistory(s.workers.client, child.body.task_id, 'in-place');
});

it('a backup schedule one minute ahead runs as a node_backup task then; removing it stops further runs', async () => {
  const at = new Date(Date.now() + (new Date().getUTCSeconds() > 40 ? 120_000 : 60_000));
  const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
  const withSchedule = { ...posix, schedules: [{ id: 'nightly', type: 'full', cron_expression: cron }] };
  const badCron = await s.call('POST', `/v1/databases/${id}`, { spec: spec({ ...posix, schedules: [{ id: 'x', type: 'full', cron_expression: '61 * * * *' }] }) });
  expect(badCron.body.message).toContain('backup_config.schedules[0].cron_expression');

  const up = await s.call('POST', `/v1/databases/${id}`, { spec: spec(withSchedule) });
  expect((await finished(up.body.task.task_id)).status).toBe('completed');
  // the database's schedule is every node's: both fire at that minute, and the second waits for the first's lock
  const handles = ['n1', 'n2'].map((n) => s.workers.client.schedule.getHandle(`backup-${id}-${n}-nightly`));
  for (const handle of handles) expect((await handle.describe()).spec.calendars?.length ?? 0).toBeGreaterThan(0);
  const minute = new Date(at); minute.setUTCSeconds(0, 0);
  const runs = await waitFor('a scheduled node_backup task of n1 and of n2', async () => {
    const tasks = (await s.call('GET', `/v1/databases/${id}/tasks?sort_order=desc`)).body.tasks as { type: string; node_name?: string; created_at: string; task_id: string }[];
    const of = (n: string) => tasks.find((t) => t.type === 'node_backup' && t.node_name === n && Date.parse(t.created_at) >= minute.getTime());
    const both = [of('n1'), of('n2')];
    return both.every(Boolean) ? both as NonNullable<(typeof both)[number]>[] : null;
  }, 180_000, 2000);
  for (const run of runs) {
    console.log(`scheduled backup task of ${run.node_name} created at ${run.created_at} for ${minute.toISOString()}`);
    expect(Date.parse(run.created_at) - minute.getTime()).toBeLessThan(60_000);
    const scheduled = await finished(run.task_id);
    expect(scheduled.status, scheduled.error).toBe('completed');
  }

  const down = await s.call('POST', `/v1/databases/${id}`, { spec: spec(posix) });
  expect((await finished(down.body.task.task_id)).status).toBe('completed');
  for (const handle of handles) await expect(handle.describe()).rejects.toThrow();
});

it('a new database created from the backup holds its rows under its own name, and its nodes replicate', async () => {
  const copy = `${id}-copy`;
  const copySpec = {
    database_name: 'app2',
    database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: [{ name: 'n1', host_ids: ['host-1'], port: port + 2 }, { name: 'n2', host_ids: ['host-1'], port: port + 3 }],
    restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath } },
    backup_config: { repositories: [{ type: 'posix', base_path: basePath }] }, // the same base_path as the source's
  };
  const r = await s.call('POST', '/v1/databases', { id: copy, spec: copySpec });
  expect(r.status, r.text).toBe(200);
  const task = await waitForTask(s.call, copy, r.body.task.task_id);
  try {
    expect(task.status, task.error).toBe('completed');
    const q = (p: number, text: string) => query(nodeConnection(p, { password: 'password', database: 'app2' }), text);
    expect((await q(port + 2, 'SELECT count(*)::int AS n FROM a'))[0].n).toBe(1000);
    expect((await q(port + 3, 'SELECT count(*)::int AS n FROM a'))[0].n).toBe(1000);
    await q(port + 2, "INSERT INTO c VALUES ('copy-n1')");
    await waitFor('the copy\'s n1 row on its n2', async () => (await q(port + 3, "SELECT 1 FROM c WHERE id = 'copy-n1'")).length === 1, 30_000);

    // Two databases share one base_path; from inside its containers (as a database superuser), each sees only its
    // own database's directory — the copy also, read-only, the one leaf it was explicitly restored from.
    expect(existsSync(path.join(basePath, 'databases', copy, 'n1', 'backup', 'db', 'backup.info'))).toBe(true);
    const sh = (p: number, database: string, cmd: string) => programOutput(nodeConnection(p, { password: 'password', database }), cmd);
    expect((await sh(port, 'app', `ls -a ${basePath}; ls -a ${basePath}/databases`)).split('\n').filter(Boolean)).toEqual(['.', '..', 'databases', '.', '..', id]);
    expect(await sh(port, 'app', `ls ${basePath}/databases/${copy}`)).toMatch(/No such file or directory/);
    expect((await sh(port + 2, 'app2', `ls ${basePath}/databases; ls ${basePath}/databases/${id}`)).split('\n').filter(Boolean)).toEqual([id, copy, 'n1']);
    expect(await sh(port + 2, 'app2', `touch ${basePath}/databases/${id}/n1/planted`)).toMatch(/Read-only file system/);
    const copyInfo = await sh(port + 2, 'app2', `pgbackrest --config=/etc/pgcp/pgbackrest.conf --stanza=db info`);
    expect(copyInfo).toMatch(/cipher: aes-256-cbc/);
  } finally {
    const del = await s.call('DELETE', `/v1/databases/${copy}?force=true`);
    if (del.status === 200) await waitFor('copy deleted', async () => (await s.call('GET', `/v1/databases/${copy}`)).status === 404, 120_000, 1000);
  }
});

it('n3 added from n1\'s backup under writes on n1 and n2 ends with every row, including those written after the backup', async () => {
  await sql('CREATE TABLE w (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  const backup = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
  expect((await finished(backup.body.task.task_id)).status).toBe('completed');
  await sql("INSERT INTO w SELECT 'after-backup-' || g, 'n1', 'x' FROM generate_series(1, 500) g"); // only in the WAL
  await sql("INSERT INTO w SELECT 'n2-after-backup-' || g, 'n2', 'x' FROM generate_series(1, 300) g", 'n2');
  const restore_config = { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: basePath } };
  const withN3 = (rc: object) => ({ ...spec(posix), nodes: [...spec().nodes, { name: 'n3', host_ids: ['host-1'], port: nodePort.n3, restore_config: rc }] });
  const foreign = await s.call('POST', `/v1/databases/${id}`, { spec: withN3({ ...restore_config, source_database_id: 'another-db' }) });
  expect(foreign.status).toBe(400);
  expect(foreign.body.message).toContain('nodes[2].restore_config.source_database_id');
  const targeted = await s.call('POST', `/v1/databases/${id}`, { spec: withN3({ ...restore_config, restore_options: { type: 'time', target: '2026-01-01' } }) });
  expect(targeted.body.message).toContain('nodes[2].restore_config.restore_options');

  const writer = await startWriter([{ node: 'n1', port: nodePort.n1 }, { node: 'n2', port: nodePort.n2 }], {
    user: 'admin', password: 'password', database: 'app', table: 'w', ratePerSecond: 20,
  });
  let log: string[];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const started = Date.now();
    // database-level, as pgEdge's collection sends it (issue 18): it applies to n3, which has no source_node
    const up = await s.call('POST', `/v1/databases/${id}`, { spec: { ...spec(posix), restore_config, nodes: [...spec().nodes, { name: 'n3', host_ids: ['host-1'], port: nodePort.n3 }] } });
    expect(up.status, up.text).toBe(200);
    const task = await finished(up.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
    console.log(`add node from backup: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    log = (await s.call('GET', `/v1/databases/${id}/tasks/${task.task_id}/log`)).body.entries.map((e: { message: string }) => e.message);
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await writer.stop();
  }
  expect(log.join('\n')).toMatch(/restoring .* from node n1's backup up to/);
  expect(log.join('\n')).toMatch(/restore command end: completed successfully/);
  console.log(`add node from backup: ${writer.acknowledged.length} rows acknowledged meanwhile, ${writer.errors.length} write errors`);
  expect(writer.errors).toEqual([]);
  expect(writer.acknowledged.length).toBeGreaterThan(100);
  const expected = 800 + writer.acknowledged.length;
  for (const n of ['n1', 'n2', 'n3'] as const) {
    await waitFor(`every row of w on ${n}`, async () => (await sql('SELECT count(*)::int AS c FROM w', n))[0].c === expected, 60_000);
  }
  const onN3 = new Set((await sql('SELECT id FROM w', 'n3')).map((r) => r.id as string));
  expect(writer.acknowledged.filter((a) => !onN3.has(a.id))).toEqual([]);
  expect((await sql('SELECT count(*)::int AS n FROM a', 'n3'))[0].n).toBe(1000);

  await sql("INSERT INTO c VALUES ('from-n3')", 'n3');
  await sql("INSERT INTO c VALUES ('to-n3')", 'n2');
  for (const n of ['n1', 'n2'] as const) {
    await waitFor(`n3's row on ${n}`, async () => (await sql("SELECT 1 FROM c WHERE id = 'from-n3'", n)).length === 1, 30_000);
  }
  await waitFor('n2\'s row on n3', async () => (await sql("SELECT 1 FROM c WHERE id = 'to-n3'", 'n3')).length === 1, 30_000);
}, 600_000);

it('n3 removed, then added again under its name: its new cluster takes over the stanza the old n3 left, and backs up', async () => {
  const without = await s.call('POST', `/v1/databases/${id}`, { spec: spec(posix) });
  expect(without.status, without.text).toBe(200);
  expect((await finished(without.body.task.task_id)).status).toBe('completed');
  // the old n3's stanza stays in the repository (backups are never deleted with a node)
  const again = await s.call('POST', `/v1/databases/${id}`, { spec: { ...spec(posix), nodes: [...spec().nodes, { name: 'n3', host_ids: ['host-1'], port: nodePort.n3 }] } });
  expect(again.status, again.text).toBe(200);
  const task = await finished(again.body.task.task_id);
  expect(task.status, task.error).toBe('completed');
  const backup = await s.call('POST', `/v1/databases/${id}/nodes/n3/backups`, { type: 'full' });
  expect(backup.status, backup.text).toBe(200);
  const done = await finished(backup.body.task.task_id);
  expect(done.status, done.error).toBe('completed');
  await sql("INSERT INTO c VALUES ('n3-again')", 'n3');
  await waitFor('the new n3\'s row on n1', async () => (await sql("SELECT 1 FROM c WHERE id = 'n3-again'", 'n1')).length === 1, 30_000);
}, 600_000);
