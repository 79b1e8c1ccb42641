// Benchmark: the write gap a primary change costs a client that follows the primary (a 20 rows/s writer connecting
// read-write to either member of node n1), for a switchover through the API against a bare `patronictl switchover`
// run in the same invocation, then for an API failover (skip_validation) and for a killed primary (time until a
// replica is promoted, with no API call). Median of --rounds each. Needs `npm start -- --hosts host-1,host-2,host-3`.
// Usage: npm run bench:switchover [-- --rounds 5]
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { ids } from '../workflows/model/ids.js';
import { startWriter } from '../test/support/writer.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, api: { type: 'string', default: 'http://127.0.0.1:3000' } } });
const rounds = Number(values.rounds);
const api = values.api;
const id = `bench-ha-${Date.now().toString(36)}`;
const port = 45000 + Math.floor(Math.random() * 500) * 2;
const hosts = ['host-1', 'host-2'];
const address = (h: string) => `127.0.0.${h.slice(5)}`;
const member = (h: string) => ids.instance(id, 'n1', h);
const exec = promisify(execFile);
const spec = {
  database_name: 'bench', database_users: [{ username: 'admin', password: 'bench-pw', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: hosts, port }, { name: 'n2', host_ids: ['host-2', 'host-3'], port: port + 1 }],
};

async function request(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely here
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function task(method: string, path: string, body: unknown): Promise<void> {
  const r = await request(method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  for (;;) {
    const t = await request('GET', `/v1/databases/${id}/tasks/${r.body.task.task_id}`);
    if (t.body?.status === 'completed') return;
    if (['failed', 'canceled'].includes(t.body?.status)) throw new Error(`task ${t.body.status}: ${t.body.error}`);
    await sleep(250);
  }
}

async function primaryHost(): Promise<string> {
  for (;;) {
    for (const h of hosts) {
      const c = new pg.Client({ host: address(h), port, user: 'admin', password: 'bench-pw', database: 'bench', connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        if (!(await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) return h;
      } catch { /* not this one */ } finally { await c.end().catch(() => undefined); }
    }
    await sleep(200);
  }
}

/** Runs `change` under the writer; the longest gap between two acknowledged rows from the change on (ms). */
async function gapOf(change: () => Promise<void>): Promise<number> {
  const w = await startWriter([{ node: 'n1', port, hosts: hosts.map(address) }], { user: 'admin', password: 'bench-pw', database: 'bench', table: 'w', ratePerSecond: 20 });
  await sleep(1500);
  const from = Date.now();
  await change();
  await sleep(2500);
  await w.stop();
  return w.longestGap('n1', from);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (label: string, xs: number[]) => console.log(`${label.padEnd(34)} median ${String(median(xs)).padStart(6)} ms   runs: ${xs.join(', ')}`);

await task('POST', '/v1/databases', { id, spec });
try {
  const c = new pg.Client({ host: address('host-1'), port, user: 'admin', password: 'bench-pw', database: 'bench' });
  await c.connect();
  await c.query('CREATE TABLE w (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await c.end();

  const viaApi: number[] = [];
  const bare: number[] = [];
  const failover: number[] = [];
  const promote: number[] = [];
  for (let i = 0; i < rounds; i++) {
    viaApi.push(await gapOf(() => task('POST', `/v1/databases/${id}/nodes/n1/switchover`, {})));
    const from = await primaryHost();
    const to = hosts.find((h) => h !== from)!;
    bare.push(await gapOf(async () => {
      await exec('docker', ['exec', member(from), 'patronictl', '-c', '/run/pgcp/patroni.yml', 'switchover', '--leader', member(from), '--candidate', member(to), '--force']);
      await primaryHost();
    }));
    failover.push(await gapOf(() => task('POST', `/v1/databases/${id}/nodes/n1/failover`, { skip_validation: true })));
  }
  for (let i = 0; i < Math.min(rounds, 3); i++) {
    const victim = await primaryHost();
    const t0 = Date.now();
    await exec('docker', ['kill', member(victim)]);
    while ((await primaryHost()) === victim) await sleep(100);
    promote.push(Date.now() - t0);
    // the monitor starts the killed member again; wait until it streams before the next round
    for (;;) {
      const db = await request('GET', `/v1/databases/${id}`);
      if (db.body.instances?.every((x: { state: string }) => x.state === 'available')) break;
      await sleep(1000);
    }
  }
  show('switchover through the API', viaApi);
  show('bare patronictl switchover', bare);
  show('failover through the API', failover);
  show('primary killed → replica promoted', promote);
  console.log(`ratio API / bare switchover (medians): ${(median(viaApi) / median(bare)).toFixed(2)}`);
} finally {
  await task('DELETE', `/v1/databases/${id}`, undefined).catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
}
