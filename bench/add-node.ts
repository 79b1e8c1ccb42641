// Benchmark: zero-downtime add-node through the running control plane, for an empty database and for one holding
// --gb of data, under a 20 rows/s writer, against a bare copy of the same data in the same invocation
// (pg_dump | pg_restore between the same two instances). Needs `npm start` running.
// Usage: npm run bench:add-node [-- --gb 1]
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startWriter } from '../test/support/writer.js';

const { values } = parseArgs({ options: { gb: { type: 'string', default: '1' }, api: { type: 'string', default: 'http://127.0.0.1:3000' } } });
const gb = Number(values.gb);
const api = values.api;
const id = `bench-add-${Date.now().toString(36)}`;
const base = 47000 + Math.floor(Math.random() * 500) * 4;
const port = (n: string) => base + Number(n.slice(1));
const node = (n: string) => ({ name: n, host_ids: ['host-1'], port: port(n) });
const spec = (nodes: string[]) => ({ database_name: 'bench', database_users: [{ username: 'admin', password: 'bench-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }], nodes: nodes.map(node) });
const exec = promisify(execFile);

async function request(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely here
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function run(method: string, path: string, body: unknown): Promise<number> {
  const t0 = performance.now();
  const r = await request(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  for (;;) {
    const task = await request('GET', `/v1/databases/${id}/tasks/${r.body.task.task_id}`);
    if (task.body?.status === 'completed') return (performance.now() - t0) / 1000;
    if (['failed', 'canceled'].includes(task.body?.status)) throw new Error(`task ${task.body.status}: ${task.body.error}`);
    await sleep(250);
  }
}

async function sql(n: string, text: string) {
  const c = new pg.Client({ host: '127.0.0.1', port: port(n), user: 'admin', password: 'bench-pw', database: 'bench' });
  await c.connect();
  try { return (await c.query(text)).rows; } finally { await c.end(); }
}

async function addNodeUnderLoad(label: string): Promise<number> {
  const writer = await startWriter([{ node: 'n1', port: port('n1') }, { node: 'n2', port: port('n2') }], { user: 'admin', password: 'bench-pw', database: 'bench', table: 'w', ratePerSecond: 20 });
  const seconds = await run('POST', `/v1/databases/${id}`, { spec: spec(['n1', 'n2', 'n3']) });
  await writer.stop();
  const rows = (await sql('n3', 'SELECT count(*)::int AS c FROM w'))[0].c;
  console.log(`${label}: add-node ${seconds.toFixed(1)} s, ${writer.acknowledged.length} rows written meanwhile, ${writer.errors.length} write errors, n3 holds ${rows} rows of w`);
  await run('POST', `/v1/databases/${id}`, { spec: spec(['n1', 'n2']) });
  return seconds;
}

await run('POST', '/v1/databases', { id, spec: spec(['n1', 'n2']) });
try {
  await sql('n1', 'CREATE TABLE w (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  while (!(await sql('n2', "SELECT to_regclass('public.w') IS NOT NULL AS ok"))[0].ok) await sleep(200); // the writer writes on n2 too
  const empty = await addNodeUnderLoad('empty database');

  await sql('n1', 'CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)');
  const rows = Math.round(gb * 4_300_000); // ~250 bytes a row on disk
  const t0 = performance.now();
  for (let from = 1; from <= rows; from += 500_000) {
    await sql('n1', `INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(${from}, ${Math.min(rows, from + 499_999)}) g`);
  }
  // wait until n2 has it all, so the add-node does not measure n2's catching up
  while ((await sql('n2', 'SELECT count(*)::bigint AS c FROM big'))[0].c !== String(rows)) await sleep(2000);
  const size = (await sql('n1', "SELECT pg_size_pretty(pg_database_size('bench')) AS s"))[0].s;
  console.log(`loaded ${rows} rows (${size}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  // baseline: the bare copy of the same database between the same instances
  const n2 = `${id}-n2-689qacsi`;
  const b0 = performance.now();
  await exec('docker', ['exec', '-e', 'PGPASSWORD=bench-pw', n2, 'sh', '-c',
    `createdb -h localhost -U admin copy && pg_dump -h ${id}-n1-689qacsi -U admin -Fc -t 'public.*' bench | pg_restore -h localhost -U admin -d copy --no-owner`]);
  const baseline = (performance.now() - b0) / 1000;
  await exec('docker', ['exec', '-e', 'PGPASSWORD=bench-pw', n2, 'dropdb', '-h', 'localhost', '-U', 'admin', 'copy']);

  const loaded = await addNodeUnderLoad(`${size} database`);
  console.log(`bare pg_dump | pg_restore of the same data: ${baseline.toFixed(1)} s`);
  console.log(`ratio add-node / bare copy: ${(loaded / baseline).toFixed(2)} (empty database: ${empty.toFixed(1)} s)`);
} finally {
  await request('DELETE', `/v1/databases/${id}?force=true`);
}
