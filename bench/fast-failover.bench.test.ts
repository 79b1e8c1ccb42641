// Benchmark: a `docker kill` of node n1's primary under a 20 rows/s writer that follows n1's primary, --rounds with
// the agents' fast failover (worker/fast-failover.ts) and as many with Patroni alone (PGCP_FAST_FAILOVER=off, its
// leader ttl), in one run on the test stack. Per round: the longest write gap, acknowledged rows lost on n1's new
// primary and on n2, and the time from the promotion until n2 receives a row written on n1's new primary.
// Prints medians, maxima and the ratio. Not in CI; nothing is asserted but the data (0 rows lost).
// Usage: flock /tmp/pgcp-stack.lock npm run bench:failover   (PGCP_BENCH_ROUNDS=5 by default)
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createDocker } from '../activities/docker/client.js';
import { ids } from '../workflows/model/ids.js';
import { startProcessStack, type ProcessStack } from '../test/support/process-stack.js';
import { nodeConnection, query } from '../test/support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../test/support/tasks.js';
import { waitForSyncReplica } from '../test/support/replicas.js';
import { waitFor } from '../test/support/wait.js';
import { startWriter } from '../test/support/writer.js';

const rounds = Number(process.env.PGCP_BENCH_ROUNDS ?? 5);
const docker = createDocker();
const id = `bench-ff-${Math.random().toString(36).slice(2, 7)}`;
const port = 27000 + Math.floor(Math.random() * 800) * 2;
const hosts = ['host-1', 'host-2'];
const address = (host: string) => `127.0.0.${host.slice(5)}`;
const spec = {
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: hosts, port }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }],
};
let stack: ProcessStack | undefined;
const call = (method: string, url: string, body?: unknown) => stack!.call(method, url, body);
const sql = (host: string, p: number, text: string, params: unknown[] = []) => query(nodeConnection(p, { host: address(host), password: 'password' }), text, params);

async function primaries(): Promise<string[]> {
  const answers = await Promise.all(hosts.map(async (h) => {
    const c = new pg.Client({ host: address(h), port, user: 'admin', password: 'password', database: 'app', connectionTimeoutMillis: 1000, query_timeout: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r ? null : h;
    } catch { return null; } finally { await c.end().catch(() => undefined); }
  }));
  return answers.filter((h): h is string => h !== null);
}

const settled = () => waitFor('every instance available and one primary', async () => {
  const db = (await call('GET', `/v1/databases/${id}`)).body;
  const p = await primaries();
  return db.state === 'available' && db.instances?.every((i: { state: string }) => i.state === 'available') && p.length === 1 ? p[0]! : null;
}, 300_000, 1000);

interface Round { gapMs: number; promotedMs: number; n2Ms: number; acknowledged: number; lost: number }

async function round(n: number): Promise<Round> {
  const victimHost = await settled();
  await waitForSyncReplica(call, id, 'n1', 300_000); // the member the last round killed has caught up: Patroni may promote it
  await new Promise((r) => setTimeout(r, 3000)); // replicas streaming, subscriptions replicating
  const w = await startWriter([{ node: 'n1', port, hosts: hosts.map(address) }], { user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: 20 });
  await new Promise((r) => setTimeout(r, 2000));
  const killedAt = Date.now();
  await docker.getContainer(ids.instance(id, 'n1', victimHost)).kill();
  const promoted = await waitFor('a promoted replica', async () => { const p = await primaries(); return p.length === 1 && p[0] !== victimHost ? p[0]! : null; }, 120_000, 100);
  const promotedAt = Date.now();
  const marker = `marker-${n}-${Date.now()}`;
  await sql(promoted, port, "INSERT INTO t VALUES ($1, 'n1', 'x')", [marker]);
  await waitFor('n1\'s row on n2', async () => (await sql('host-2', port + 1, 'SELECT 1 FROM t WHERE id = $1', [marker])).length === 1, 120_000, 100);
  const n2At = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  await w.stop();
  const want = w.acknowledged.map((a) => a.id);
  await new Promise((r) => setTimeout(r, 3000)); // let n2 catch up before counting
  const onN1 = (await sql(promoted, port, 'SELECT count(*)::int AS n FROM t WHERE id = ANY ($1)', [want]))[0].n as number;
  const onN2 = (await sql('host-2', port + 1, 'SELECT count(*)::int AS n FROM t WHERE id = ANY ($1)', [want]))[0].n as number;
  return { gapMs: w.longestGap('n1', killedAt - 1), promotedMs: promotedAt - killedAt, n2Ms: n2At - promotedAt, acknowledged: want.length, lost: want.length - Math.min(onN1, onN2) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (label: string, xs: number[]) => `${label.padEnd(44)} median ${String(median(xs)).padStart(6)} ms   max ${String(Math.max(...xs)).padStart(6)} ms   runs: ${xs.join(', ')}`;

beforeAll(async () => {
  stack = await startProcessStack(hosts);
  const created = await call('POST', '/v1/databases', { id, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  expect((await waitForTask(call, id, created.body.task.task_id, { timeoutMs: 420_000, intervalMs: 1000 })).status).toBe('completed');
  await sql('host-1', port, 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await waitFor('table t on n2', async () => (await sql('host-2', port + 1, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
}, 600_000);

afterAll(async () => {
  if (!stack) return;
  await forceDeleteDatabase(call, id);
  await stack.stop();
});

it(`kill n1's primary: ${rounds} rounds with the fast path, ${rounds} with Patroni alone`, async () => {
  const results: Record<'fast' | 'patroni', Round[]> = { fast: [], patroni: [] };
  for (const mode of ['fast', 'patroni'] as const) {
    if (mode === 'patroni') for (const h of hosts) await stack!.restartWorker(h, { PGCP_FAST_FAILOVER: 'off' });
    for (let i = 0; i < rounds; i++) {
      const r = await round(i);
      console.log(`${mode} round ${i + 1}: ${JSON.stringify(r)}`);
      results[mode].push(r);
    }
  }
  const { fast, patroni } = results;
  console.log([
    `docker kill of n1's primary under a 20 rows/s writer, ${rounds} rounds each`,
    line('longest write gap, fast failover', fast.map((r) => r.gapMs)),
    line('longest write gap, Patroni alone', patroni.map((r) => r.gapMs)),
    line('kill → promoted, fast failover', fast.map((r) => r.promotedMs)),
    line('kill → promoted, Patroni alone', patroni.map((r) => r.promotedMs)),
    line('promoted → n2 has n1\'s write, fast failover', fast.map((r) => r.n2Ms)),
    line('promoted → n2 has n1\'s write, Patroni alone', patroni.map((r) => r.n2Ms)),
    `acknowledged rows lost per round: fast ${fast.map((r) => `${r.lost}/${r.acknowledged}`).join(', ')}; Patroni alone ${patroni.map((r) => `${r.lost}/${r.acknowledged}`).join(', ')}`,
    `ratio Patroni alone / fast failover (median longest gap): ${(median(patroni.map((r) => r.gapMs)) / median(fast.map((r) => r.gapMs))).toFixed(1)}`,
  ].join('\n'));
  expect([...fast, ...patroni].map((r) => r.lost)).toEqual(Array(2 * rounds).fill(0));
});
