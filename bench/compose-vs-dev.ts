// Benchmark: the same 3-node create (POST /v1/databases → `available`) on the production stack (docker-compose.yml:
// Temporal server on Postgres, every service in a container) and on the dev-server stack (`npm start`: Temporal dev
// server on SQLite, processes on this machine), alternating, in one invocation; prints medians and their ratio.
// Brings both up itself (the dev stack over a running one, e.g. the test stack, when its ports answer) and takes
// both down. Needs `scripts/setup.sh --compose`. Usage: npm run bench:compose [-- --rounds 3]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { projectRoot, secretFiles } from '../platform/config.js';
import { defaultDataDir, storeUrl } from '../scripts/stack.js';
import { composeUp } from '../test/support/compose-stack.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const tag = Math.random().toString(36).slice(2, 7);
type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: { state?: string; status?: { state?: string } } | null }>;

const freePort = () => new Promise<number>((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
});

function caller(apiUrl: string): Call {
  return async (method, url, body) => {
    const res = await fetch(`${apiUrl}${url}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/** `npm start`'s launcher over the dev-server stack, with its own store database, namespace and API port. */
async function startDev() {
  const apiPort = await freePort();
  const database = `pgcp_bench_${tag}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'start.ts'), '--reuse-stack'], {
    cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PGCP_API_PORT: String(apiPort), PGCP_NAMESPACE: 'pgcp-bench', PGCP_STORE_URL: storeUrl(database), PGCP_ETCD_PASSWORD_FILE: secretFiles(defaultDataDir).etcdRoot, PGCP_DATA_DIR: path.join(projectRoot, '.data', 'bench-dev') },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('control plane ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the dev launcher exited (${code})`)));
  });
  return {
    call: caller(`http://127.0.0.1:${apiPort}`),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      const c = new pg.Client({ connectionString: storeUrl('postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => c.end());
    },
  };
}

async function ready(call: Call): Promise<void> {
  await call('GET', '/v1/cluster/init');
  for (let i = 0; (await call('GET', '/v1/hosts/host-1')).body?.status?.state !== 'healthy'; i++) {
    if (i > 120) throw new Error('host-1 did not become healthy');
    await sleep(500);
  }
}

let portBase = 29000 + Math.floor(Math.random() * 300) * 3;
async function create3(call: Call, name: string): Promise<number> {
  const id = `bench-${name}-${tag}-${portBase}`;
  const spec = { database_name: 'example', nodes: ['n1', 'n2', 'n3'].map((n, i) => ({ name: n, host_ids: ['host-1'], port: portBase + i })) };
  portBase += 3;
  const t0 = performance.now();
  const created = await call('POST', '/v1/databases', { id, spec });
  if (created.status !== 200) throw new Error(`create on ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  for (;;) {
    const state = (await call('GET', `/v1/databases/${id}`)).body?.state;
    if (state === 'available') break;
    if (state === 'failed') throw new Error(`database ${id} failed on ${name}`);
    await sleep(100);
  }
  const elapsed = performance.now() - t0;
  await call('DELETE', `/v1/databases/${id}`);
  while ((await call('GET', `/v1/databases/${id}`)).status !== 404) await sleep(250);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const compose = await composeUp(`pgcp-bench-${tag}`);
console.log(`compose stack up in ${fmt(compose.upMs)}`);
const dev = await startDev().catch(async (err) => { await compose.down(); throw err; });
try {
  await ready(compose.call);
  await ready(dev.call);
  const results = { compose: [] as number[], dev: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    results.dev.push(await create3(dev.call, 'dev'));
    results.compose.push(await create3(compose.call, 'compose'));
  }
  const [c, d] = [median(results.compose), median(results.dev)];
  console.log(`3-node create, POST → available, ${rounds} rounds alternating:
  dev-server stack (npm start)         median ${fmt(d)} [${results.dev.map(fmt).join(', ')}]
  production stack (docker-compose)    median ${fmt(c)} [${results.compose.map(fmt).join(', ')}]
  ratio compose / dev ${(c / d).toFixed(2)}`);
} finally {
  await dev.stop();
  await compose.down();
}
