// Changing a running node, on two hosts (each its own worker process): n1 has a primary on host-1 and a replica on
// host-2, n2 one instance on host-2, both on the older Postgres 15 minor. The database mounts its posix backup
// repository with orchestrator_opts.swarm.extra_volumes at /backups, as pgEdge's local backup walkthrough does.
// Under a 20 Hz writer through a multi-host connection string: a port and memory change, then an /upgrade to the
// newer minor — each rolls replicas first, switches over, then the old primary: nothing acknowledged is lost, and the
// hosts' fast-failover watchers (on by default) take none of those planned stops for a primary's death.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { ids } from '../../workflows/model/ids.js';
import type { ApiCall } from '../support/api-client.js';
import { recordHistory } from '../support/histories.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWriter, type Writer } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `roll-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(3);
const newPort = port + 2;
const address = (host: string) => `127.0.0.${host.slice(5)}`;
const n1Hosts = ['host-1', 'host-2'];
// the volume's host path is held to the repositories' host-path policy: inside PGCP_REPOSITORY_ROOTS' default
mkdirSync(path.join(defaultRepositoryRoot, 'test'), { recursive: true });
const backups = mkdtempSync(path.join(defaultRepositoryRoot, 'test', 'rolling-backups-'));
chmodSync(backups, 0o755); // as a directory made for the walkthrough is: Postgres's user must pass through it
const baseSpec = {
  database_name: 'app',
  postgres_version: '15.18',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  orchestrator_opts: { swarm: { extra_volumes: [{ host_path: backups, destination_path: '/backups' }], extra_labels: { team: 'storefront' } } },
  backup_config: { repositories: [{ type: 'posix', base_path: '/backups' }] },
  nodes: [{ name: 'n1', host_ids: n1Hosts, port }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }],
};
let stack: ProcessStack | undefined;
const call: ApiCall = (method, url, body) => stack!.call(method, url, body);
const sql = (host: string, p: number, text: string, params: unknown[] = []) => query(nodeConnection(p, { host: address(host), password: 'password' }), text, params);
const finished = (taskId: string, timeoutMs = 420_000) => waitForTask(call, id, taskId, { timeoutMs, intervalMs: 500 });
const database = async () => (await call('GET', `/v1/databases/${id}`)).body;
const primaryOf = async (n: string) => (await database()).instances?.find((i: any) => i.node_name === n && i.state === 'available' && i.postgres?.role === 'primary')?.host_id as string | undefined;

/** n1 through every member on the old and the new port; n2 through its one instance. */
function writer(): Promise<Writer> {
  const n1 = n1Hosts.flatMap((h) => [`${address(h)}:${port}`, `${address(h)}:${newPort}`]);
  return startWriter([{ node: 'n1', port, hosts: n1 }, { node: 'n2', port: port + 1, host: address('host-2') }],
    { user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: 20 });
}

/** Every acknowledged row on both nodes' primaries. */
async function expectNothingLost(w: Writer, n1Port: number) {
  const want = w.acknowledged.map((a) => a.id);
  for (const [n, p] of [['n1', n1Port], ['n2', port + 1]] as const) {
    await waitFor(`${want.length} rows on ${n}`, async () => (await sql((await primaryOf(n))!, p, 'SELECT count(*)::int AS c FROM t WHERE id = ANY ($1)', [want]))[0].c === want.length, 60_000, 1000);
  }
}

async function expectReplicationBothWays(n1Port: number, tag: string) {
  await sql((await primaryOf('n1'))!, n1Port, "INSERT INTO t VALUES ($1, 'n1', 'x')", [`${tag}-from-n1`]);
  await sql('host-2', port + 1, "INSERT INTO t VALUES ($1, 'n2', 'x')", [`${tag}-from-n2`]);
  await waitFor(`${tag}: n1's row on n2`, async () => (await sql('host-2', port + 1, 'SELECT 1 FROM t WHERE id = $1', [`${tag}-from-n1`])).length === 1, 30_000);
  await waitFor(`${tag}: n2's row on n1`, async () => (await sql((await primaryOf('n1'))!, n1Port, 'SELECT 1 FROM t WHERE id = $1', [`${tag}-from-n2`])).length === 1, 30_000);
}

/** Runs an update or upgrade under the writer; returns the finished task and the longest gap of n1's writes. */
async function underWrites(start: () => Promise<{ status: number; body: any }>, n1Port: number) {
  const w = await writer();
  await new Promise((r) => setTimeout(r, 2000));
  const before = Date.now();
  const r = await start();
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const logOf = async (taskId: string) => (await call('GET', `/v1/databases/${id}/tasks/${taskId}/log`)).body.entries.map((e: any) => `${e.timestamp} ${e.message}` as string);
  const task = await finished(r.body.task.task_id, 300_000).catch(async (err: Error) => {
    await w.stop();
    throw new Error(`${err.message}\n${(await logOf(r.body.task.task_id)).join('\n')}`);
  });
  expect(task.status, `${task.error}\n${(await logOf(task.task_id)).join('\n')}`).toBe('completed');
  await new Promise((res) => setTimeout(res, 2000));
  await w.stop();
  const gap = w.longestGap('n1', before);
  console.log(`${task.type}: longest write gap on n1 ${gap} ms, on n2 ${w.longestGap('n2', before)} ms; ${w.acknowledged.length} rows acknowledged, ${w.errors.length} refused meanwhile`);
  await expectNothingLost(w, n1Port);
  const log: string[] = (await call('GET', `/v1/databases/${id}/tasks/${task.task_id}/log`)).body.entries.map((e: any) => e.message as string);
  // containers stopped and made again on purpose are not deaths: the hosts' fast-failover watchers start no task
  const failovers = ((await call('GET', `/v1/databases/${id}/tasks?limit=50`)).body.tasks as any[]).filter((t) => t.type === 'failover');
  expect(failovers).toEqual([]);
  return { task, log };
}

beforeAll(async () => {
  stack = await startProcessStack(['host-1', 'host-2']);
  const created = await call('POST', '/v1/databases', { id, spec: baseSpec });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  expect(created.body.database.spec.orchestrator_opts).toEqual({ swarm: { ...baseSpec.orchestrator_opts.swarm, image: '' } });
  const task = await finished(created.body.task.task_id);
  expect(task.status, task.error).toBe('completed');
  await sql('host-1', port, 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await waitFor('table t on n2', async () => (await sql('host-2', port + 1, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
}, 600_000);

afterAll(async () => {
  if (stack) {
    await forceDeleteDatabase(call, id);
    await stack.stop();
  }
  rmSync(backups, { recursive: true, force: true });
});

describe('orchestrator_opts.swarm', () => {
  it('a posix repository inside an extra volume at /backups takes a full backup; extra labels are on the containers', async () => {
    const r = await call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await finished(r.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
    expect(existsSync(path.join(backups, 'databases', id, 'n1', 'backup', 'db', 'backup.info'))).toBe(true);
    const info = await docker.getContainer(ids.instance(id, 'n1', 'host-2')).inspect();
    expect(info.Config.Labels).toMatchObject({ team: 'storefront' });
    expect(info.Mounts.some((m) => m.Source === backups && m.Destination === '/backups')).toBe(true);
  });
});

describe('changing a running node', () => {
  it('a new port and memory limit roll n1 (replica, switchover, old primary) under writes: nothing lost, both ways after', async () => {
    const next = { ...baseSpec, nodes: [{ ...baseSpec.nodes[0]!, port: newPort, memory: '512MiB' }, baseSpec.nodes[1]!] };
    const primary = (await primaryOf('n1'))!;
    const { log } = await underWrites(() => call('POST', `/v1/databases/${id}`, { spec: next }), newPort);
    const replica = n1Hosts.find((h) => h !== primary)!;
    const at = (text: string) => log.findIndex((m) => m.includes(text));
    const remade = (h: string) => at(`making again (data kept) instance ${ids.instance(id, 'n1', h)}`);
    expect(remade(replica)).toBeGreaterThan(-1);
    expect(at('switchover of node n1')).toBeGreaterThan(remade(replica));
    expect(remade(primary)).toBeGreaterThan(at('switchover of node n1'));
    expect(log.some((m) => m.includes(`making again (data kept) instance ${ids.instance(id, 'n2', 'host-2')}`))).toBe(false);
    for (const h of n1Hosts) {
      const info = await docker.getContainer(ids.instance(id, 'n1', h)).inspect();
      expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
      expect(info.HostConfig.PortBindings?.['5432/tcp']?.[0]?.HostPort).toBe(String(newPort));
      expect((await sql(h, newPort, 'SELECT 1 AS ok'))[0].ok).toBe(1); // reachable on the new port
    }
    await expect(sql(primary, port, 'SELECT 1')).rejects.toThrow();
    expect((await database()).instances.find((i: any) => i.id === ids.instance(id, 'n1', 'host-1')).connection_info.port).toBe(newPort);
    await expectReplicationBothWays(newPort, 'port');
    baseSpec.nodes[0] = next.nodes[0]!;
  });

  it('/upgrade moves every node to the newer minor of the manifest, rolling as an update: nothing lost, new image everywhere', async () => {
    const offered = (await call('GET', `/v1/databases/${id}?include=available_upgrades`)).body.available_upgrades;
    expect(offered).toHaveLength(1);
    expect(offered[0]).toMatchObject({ postgres_version: expect.stringMatching(/^15\.\d+$/), spock_version: '5' });
    expect(Number(offered[0].postgres_version.split('.')[1])).toBeGreaterThan(18);
    const refused = await call('POST', `/v1/databases/${id}/upgrade`, { image: 'pgcp/postgres:nope' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^upgrade not available: pgcp\/postgres:nope/);

    const n1Port = baseSpec.nodes[0]!.port; // the new port once the test above ran
    const primary = (await primaryOf('n1'))!;
    const { task, log } = await underWrites(() => call('POST', `/v1/databases/${id}/upgrade`, { image: offered[0].image }), n1Port);
    expect(task.type).toBe('upgrade');
    const replica = n1Hosts.find((h) => h !== primary)!;
    const at = (text: string) => log.findIndex((m) => m.includes(text));
    const remade = (n: string, h: string) => at(`making again (data kept) instance ${ids.instance(id, n, h)}`);
    expect(at('switchover of node n1')).toBeGreaterThan(remade('n1', replica));
    expect(remade('n1', primary)).toBeGreaterThan(at('switchover of node n1'));
    expect(remade('n2', 'host-2')).toBeGreaterThan(remade('n1', primary)); // node after node
    for (const [n, h, p] of [['n1', 'host-1', n1Port], ['n1', 'host-2', n1Port], ['n2', 'host-2', port + 1]] as const) {
      expect((await docker.getContainer(ids.instance(id, n, h)).inspect()).Config.Image).toBe(offered[0].image);
      expect((await sql(h, p, 'SHOW server_version'))[0].server_version.split(' ')[0]).toBe(offered[0].postgres_version);
    }
    const after = await call('GET', `/v1/databases/${id}?include=available_upgrades`);
    expect(after.body.spec.postgres_version).toBe(offered[0].postgres_version);
    expect(after.body.available_upgrades).toBeUndefined();
    await expectReplicationBothWays(n1Port, 'upgrade');
    await recordHistory(stack!.temporal, task.task_id, 'rolling-upgrade');
  });
});
