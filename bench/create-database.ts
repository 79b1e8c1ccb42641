// Benchmark: POST /v1/databases → `available` through the running control plane (Patroni, Temporal, monitor),
// against a bare docker + SQL script building the same pglogical mesh from the same image, in one invocation.
// Needs `npm start` running. Usage: npm run bench [-- --rounds 3]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createDocker } from '../activities/docker/client.js';
import { manifestEntry, manifestMajors } from '../activities/docker/images.js';
import { baselineMesh } from './baseline-mesh.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, api: { type: 'string', default: 'http://127.0.0.1:3000' } } });
const rounds = Number(values.rounds);
const api = values.api;
const docker = createDocker();
const major = manifestMajors().at(-1)!;
const image = manifestEntry(major)!.image;

async function request(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

async function controlPlane(nodes: number, round: number): Promise<number> {
  const id = `bench-${nodes}-${round}-${Date.now().toString(36)}`;
  const spec = { database_name: 'example', nodes: Array.from({ length: nodes }, (_, i) => ({ name: `n${i + 1}`, host_ids: ['host-1'] })) };
  const t0 = performance.now();
  const created = await request('POST', '/v1/databases', { id, spec });
  if (created.status !== 200) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  for (;;) {
    const db = await request('GET', `/v1/databases/${id}`);
    if (db.body?.state === 'available') break;
    if (db.body?.state === 'failed') throw new Error(`database ${id} failed`);
    await sleep(100);
  }
  const elapsed = performance.now() - t0;
  await request('DELETE', `/v1/databases/${id}`);
  while ((await request('GET', `/v1/databases/${id}`)).status !== 404) await sleep(250);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

if ((await fetch(`${api}/v1/version`).catch(() => null))?.ok !== true) {
  console.error(`no control plane at ${api}: run npm start first`);
  process.exit(1);
}
await request('GET', '/v1/cluster/init'); // 200 or 409: either way the cluster exists

console.log(`image ${image}, ${rounds} rounds each, alternating`);
const results: Record<string, number[]> = {};
for (const nodes of [1, 3]) {
  for (let r = 0; r < rounds; r++) {
    (results[`baseline ${nodes}`] ??= []).push(await baselineMesh(docker, image, nodes));
    (results[`control plane ${nodes}`] ??= []).push(await controlPlane(nodes, r));
  }
}
for (const nodes of [1, 3]) {
  const base = median(results[`baseline ${nodes}`]!);
  const ours = median(results[`control plane ${nodes}`]!);
  console.log(`${nodes} node(s): bare script median ${fmt(base)} [${results[`baseline ${nodes}`]!.map(fmt).join(', ')}], `
    + `control plane POST→available median ${fmt(ours)} [${results[`control plane ${nodes}`]!.map(fmt).join(', ')}], ratio ${(ours / base).toFixed(2)}`);
}
