// A full backup of a 2 GB node through the API completes as one task, in one attempt, with one backup in the
// repository. pgBackRest's copy phase prints nothing at the info log level for minutes: the step must heartbeat on
// its own (a missed heartbeat would retry the backup beside itself, meet pgBackRest's lock and fail the task).
// The data is random bytes (pgcrypto), so neither the heap nor the repository's gzip makes it smaller. Backups are
// turned on after the load, as on a database that grew without them: the load's WAL is not archived meanwhile (with
// backups on from the start, archiving its ~3.6 GB of WAL beside the backup made the backup take 233 s instead of
// 65 s on this 2-core machine; it completed in one attempt too). About 1.5 min in all.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { nodeConnection, programOutput, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const id = `bkl-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(1);
const basePath = path.join(defaultRepositoryRoot, 'test', id);
const spec = (backup?: unknown) => ({
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port }],
  ...(backup ? { backup_config: backup } : {}),
});
const conn = nodeConnection(port, { password: 'password' });
const seconds = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;

beforeAll(async () => {
  s = await startApiStack(['host-1']);
  const created = await s.call('POST', '/v1/databases', { id, spec: spec() });
  expect(created.status, created.text).toBe(200);
  const task = await waitForTask(s.call, id, created.body.task.task_id, { intervalMs: 500 });
  expect(task.status, task.error).toBe('completed');
}, 300_000);

afterAll(async () => {
  if (s) await forceDeleteDatabase(s.call, id);
  await s?.stop();
  await rm(basePath, { recursive: true, force: true });
});

it('a 2 GB node\'s full backup completes as one completed task, in one attempt, with one backup in pgbackrest info', async () => {
  let t0 = performance.now();
  await query(conn, 'CREATE EXTENSION IF NOT EXISTS pgcrypto');
  await query(conn, 'CREATE TABLE big (id int PRIMARY KEY, b bytea)');
  // ~1 KB of random bytes a row, 7 rows a page: under the TOAST threshold, so stored as is
  await query(conn, 'INSERT INTO big SELECT i, gen_random_bytes(1024) FROM generate_series(1, 1900000) i');
  const size = Number((await query(conn, "SELECT pg_database_size('app')::bigint AS n"))[0].n);
  console.log(`loaded ${(size / 2 ** 30).toFixed(2)} GiB in ${seconds(t0)} s`);
  expect(size).toBeGreaterThan(2 * 10 ** 9);

  // backups turned on for the loaded node (its WAL archived from then on): the stanza is made and checked
  t0 = performance.now();
  const updated = await s.call('POST', `/v1/databases/${id}`, { spec: spec({ repositories: [{ type: 'posix', base_path: basePath }] }) });
  expect(updated.status, updated.text).toBe(200);
  const update = await waitForTask(s.call, id, updated.body.task.task_id, { intervalMs: 500 });
  expect(update.status, update.error).toBe('completed');
  console.log(`backup_config added in ${seconds(t0)} s`);

  t0 = performance.now();
  const r = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
  expect(r.status, r.text).toBe(200);
  const task = await waitForTask(s.call, id, r.body.task.task_id, { timeoutMs: 20 * 60_000 });
  console.log(`full backup of ${(size / 2 ** 30).toFixed(2)} GiB: task ${task.status} in ${seconds(t0)} s`);
  expect(task.status, task.error).toBe('completed');

  // the backup step ran once: no attempt beside (or after) the first
  const events = (await s.workers.client.workflow.getHandle(task.task_id).fetchHistory()).events ?? [];
  const backupSteps = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runBackup');
  expect(backupSteps).toHaveLength(1);
  const attempts = events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
  expect(attempts.every((a) => a === 1), `attempts: ${attempts.join(', ')}`).toBe(true);

  const info = JSON.parse(await programOutput(conn, 'pgbackrest --config=/etc/pgcp/pgbackrest.conf --stanza=db info --output=json')) as
    { backup: { type: string; label: string; info: { size: number } }[] }[];
  const backups = info.flatMap((st) => st.backup);
  expect(backups.map((b) => b.type)).toEqual(['full']);
  expect(backups[0]!.info.size).toBeGreaterThan(2 * 10 ** 9);
});
