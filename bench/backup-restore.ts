// Benchmark: a full backup and an in-place restore of a node holding --gb of data through the control plane,
// against pgBackRest run bare in the same instance (backup) and pgBackRest's own restore time (from the task log),
// in the same invocation. Needs `npm start` running. Usage: npm run bench:backup [-- --gb 1]
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { defaultRepositoryRoot } from '../platform/config.js';

const { values } = parseArgs({ options: { gb: { type: 'string', default: '1' }, api: { type: 'string', default: 'http://127.0.0.1:3000' } } });
const gb = Number(values.gb);
const api = values.api;
const id = `bench-bk-${Date.now().toString(36)}`;
const port = 46000 + Math.floor(Math.random() * 500);
const basePath = path.join(defaultRepositoryRoot, 'bench', id); // inside PGCP_REPOSITORY_ROOTS' default
const exec = promisify(execFile);
const spec = {
  database_name: 'bench', database_users: [{ username: 'admin', password: 'bench-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port }],
  backup_config: { repositories: [{ type: 'posix', base_path: basePath, retention_full: 9, retention_full_type: 'count' }] },
};

async function request(method: string, p: string, body?: unknown) {
  const res = await fetch(`${api}${p}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely here
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

/** Runs a task to its end; its duration (s) and its log lines. */
async function task(method: string, p: string, body: unknown, pick: (b: any) => string = (b) => b.task.task_id): Promise<{ seconds: number; log: string[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = performance.now();
  const r = await request(method, p, body);
  if (r.status !== 200) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  const taskId = pick(r.body);
  for (;;) {
    const t = await request('GET', `/v1/databases/${id}/tasks/${taskId}`);
    if (t.body?.status === 'completed') {
      const seconds = (performance.now() - t0) / 1000;
      const log = (await request('GET', `/v1/databases/${id}/tasks/${taskId}/log`)).body.entries.map((e: { message: string }) => e.message);
      return { seconds, log };
    }
    if (['failed', 'canceled'].includes(t.body?.status)) throw new Error(`task ${t.body.status}: ${t.body.error}`);
    await sleep(250);
  }
}

async function sql(text: string) {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'bench-pw', database: 'bench' });
  await c.connect();
  try { return (await c.query(text)).rows; } finally { await c.end(); }
}

/** pgBackRest's own "… command end: completed successfully (Nms)" duration, in s. */
const ownSeconds = (log: string[], command: string) => Number(/\((\d+)ms\)/.exec(log.find((l) => l.includes(`${command} command end: completed successfully`)) ?? '')?.[1] ?? NaN) / 1000;

await task('POST', '/v1/databases', { id, spec });
try {
  await sql('CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)');
  const rows = Math.round(gb * 4_300_000);
  for (let from = 1; from <= rows; from += 500_000) {
    await sql(`INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(${from}, ${Math.min(rows, from + 499_999)}) g`);
  }
  const size = (await sql("SELECT pg_size_pretty(pg_database_size('bench')) AS s"))[0].s;
  console.log(`loaded ${rows} rows (${size})`);

  // ABBA order (bare, API, API, bare): the page cache and the repository's state favour neither side
  const bareBackup = async () => {
    const b0 = performance.now();
    await exec('docker', ['exec', '-u', 'postgres', `${id}-n1-689qacsi`, 'pgbackrest', '--config=/etc/pgcp/pgbackrest.conf', '--stanza=db', 'backup', '--type=full']);
    return (performance.now() - b0) / 1000;
  };
  const apiBackup = async () => (await task('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' })).seconds;
  const bare = [await bareBackup()];
  const api = [await apiBackup(), await apiBackup()];
  bare.push(await bareBackup());
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`full backup: through the API ${api.map((x) => x.toFixed(1)).join(', ')} s, bare pgbackrest ${bare.map((x) => x.toFixed(1)).join(', ')} s, ratio of means ${(mean(api) / mean(bare)).toFixed(2)}`);

  let child = '';
  const restore = await task('POST', `/v1/databases/${id}/restore`, {
    restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'bench', repository: { type: 'posix', base_path: basePath } },
  }, (b) => { child = b.node_tasks[0].task_id; return b.task.task_id; });
  // pgBackRest's output is in the node_restore child's log
  restore.log = (await request('GET', `/v1/databases/${id}/tasks/${child}/log`)).body.entries.map((e: { message: string }) => e.message);
  const own = ownSeconds(restore.log, 'restore');
  console.log(`in-place restore (latest): whole task ${restore.seconds.toFixed(1)} s, of which pgbackrest restore ${own.toFixed(1)} s, ratio ${(restore.seconds / own).toFixed(2)}`);
  const n = (await sql('SELECT count(*)::bigint AS n FROM big'))[0].n;
  console.log(`rows after the restore: ${n} of ${rows}`);
} finally {
  await task('DELETE', `/v1/databases/${id}`, undefined).catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  await rm(basePath, { recursive: true, force: true });
}
