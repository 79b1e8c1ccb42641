// Crash safety of restore: three times, n1 of a 2-node database is restored in place to a time T and the worker
// process is SIGKILLed at a different step of its node_restore task (peers unlinked, pgBackRest restoring, the
// replication node made anew); a new worker finishes the same task. Each time n1 holds what it had at T and not
// what came after, and replication works both ways again.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { ids } from '../../workflows/model/ids.js';
import { crashHarness } from '../support/crash-harness.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const id = `crashrst-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(4);
const port = (n: string) => basePort + Number(n.slice(1));
const basePath = path.join(defaultRepositoryRoot, 'test', id); // inside PGCP_REPOSITORY_ROOTS' default
const repository = { type: 'posix', base_path: basePath };
const spec = {
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: ['n1', 'n2'].map((n) => ({ name: n, host_ids: ['host-1'], port: port(n) })),
  backup_config: { repositories: [repository] },
};
/** Where each round's SIGKILL lands: the first log line of the node_restore task matching it. */
const killAt = [/dropping node n2's subscription/, /restoring .* with pgBackRest/, /making node n1's replication node anew/];
const h = crashHarness(id, port);
const { call, sql, completed } = h;

beforeAll(() => h.start());
afterAll(async () => {
  await h.stop();
  await rm(basePath, { recursive: true, force: true });
});

it(`a restore whose worker is SIGKILLed mid-task finishes after a restart, ${killAt.length} times`, async () => {
  const created = await call('POST', '/v1/databases', { id, spec });
  await completed(created.body.task.task_id);
  await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY)');
  await waitFor('table t on n2', async () => (await sql('n2', "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);

  for (const [i, pattern] of killAt.entries()) {
    const round = i + 1;
    const backup = await call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
    await completed(backup.body.task.task_id);
    await sql('n1', `INSERT INTO t VALUES ('kept-${round}')`);
    const target = (await sql('n1', "SELECT (now() + interval '1 second')::text AS t"))[0].t as string;
    await new Promise((r) => setTimeout(r, 2000));
    await sql('n1', `INSERT INTO t VALUES ('undone-${round}')`);

    const r = await call('POST', `/v1/databases/${id}/restore`, {
      restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository, restore_options: { type: 'time', target } },
      target_nodes: ['n1'],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const child = r.body.node_tasks[0].task_id as string;
    const at = await waitFor(`round ${round}: "${pattern.source}" in the node_restore log`, async () => {
      const log = await call('GET', `/v1/databases/${id}/tasks/${child}/log`);
      return (log.body.entries as { message: string }[]).find((e) => pattern.test(e.message))?.message;
    }, 300_000, 100);
    console.log(`round ${round}: SIGKILL at "${at}"`);
    await h.restartWorker();
    await completed(r.body.task.task_id);
    expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');

    const kept = (await sql('n1', 'SELECT id FROM t')).map((x) => x.id as string);
    expect(kept).toContain(`kept-${round}`);
    expect(kept).not.toContain(`undone-${round}`);
    await sql('n1', `INSERT INTO t VALUES ('from-n1-${round}')`);
    await sql('n2', `INSERT INTO t VALUES ('from-n2-${round}')`);
    await waitFor(`round ${round}: n1's row on n2`, async () => (await sql('n2', `SELECT 1 FROM t WHERE id = 'from-n1-${round}'`)).length === 1, 60_000);
    await waitFor(`round ${round}: n2's row on n1`, async () => (await sql('n1', `SELECT 1 FROM t WHERE id = 'from-n2-${round}'`)).length === 1, 60_000);
    for (const n of ['n1', 'n2']) {
      const subs = await sql(n, 'SELECT count(*)::int AS n, count(*) FILTER (WHERE sub_enabled)::int AS enabled FROM pglogical.subscription');
      expect(subs[0], `subscriptions on ${n}`).toEqual({ n: 1, enabled: 1 });
    }
  }
});

it('a restore to the latest point whose primary is killed as it begins still restores every commit the primary acknowledged', async () => {
  const backup = await call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
  await completed(backup.body.task.task_id);
  // after the backup, in a WAL segment not yet archived: only the killed primary's pg_wal holds these
  await sql('n1', "INSERT INTO t SELECT 'latest-' || g FROM generate_series(1, 200) g");
  const r = await call('POST', `/v1/databases/${id}/restore`, {
    restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository }, target_nodes: ['n1'],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const child = r.body.node_tasks[0].task_id as string;
  const entries = async () => ((await call('GET', `/v1/databases/${id}/tasks/${child}/log`)).body.entries as { message: string }[]).map((e) => e.message);
  await waitFor('the restore step in the node_restore log', async () => (await entries()).some((m) => /restoring .* with pgBackRest/.test(m)), 300_000, 100);
  await createDocker().getContainer(ids.instance(id, 'n1', 'host-1')).kill();
  await completed(r.body.task.task_id);
  const log = await entries();
  console.log(`killed as the restore began: ${log.find((m) => m.includes('had exited')) ?? 'the kill came after its WAL was archived'}`);
  expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');
  expect((await sql('n1', "SELECT count(*)::int AS n FROM t WHERE id LIKE 'latest-%'"))[0].n).toBe(200);
  await sql('n1', "INSERT INTO t VALUES ('after-latest')");
  await waitFor('n1\'s row on n2', async () => (await sql('n2', "SELECT 1 FROM t WHERE id = 'after-latest'")).length === 1, 60_000);
});
