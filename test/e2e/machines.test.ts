// Hosts on separate machines: three network namespaces, each with its own address and its own dockerd
// (test/support/machines.ts); each host's agent is a worker process talking to its machine's engine. n1 has its
// primary and its replica on different engines (host-1, host-2), n2 is on host-3. Everything between machines goes
// by host address and published port: replication both ways, a switchover under writes, an engine that stops and
// starts again (the database turns degraded, then available, by itself), and a delete that leaves nothing anywhere.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import type Docker from 'dockerode';
import type { Client } from '@temporalio/client';
import { testTemporalClient } from '../support/secret-key.js';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { manifestEntry } from '../../activities/docker/images.js';
import { dockerBridgeAddress, loadConfig, projectRoot } from '../../platform/config.js';
import { ids } from '../../workflows/model/ids.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { machinesGone, startMachines, type Machine, type Machines } from '../support/machines.js';
import { forceDeleteDatabase } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { killWorker, startWorkerProcess } from '../support/worker-process.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const id = `mach-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
const hostIds = ['host-1', 'host-2', 'host-3'];
let machines: Machines | null = null;
const m = (hostId: string): Machine => machines!.machines.find((x) => x.hostId === hostId)!;
let t: TestApp;
let temporal: Client;
const workers: ChildProcess[] = [];

async function call(method: string, url: string, body?: unknown) {
  const res = await t.app.request(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
}

async function finished(taskId: string, timeoutMs = 420_000) {
  const task = await waitFor(`task ${taskId}`, async () => {
    const r = await call('GET', `/v1/databases/${id}/tasks/${taskId}`);
    return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : null;
  }, timeoutMs, 1000);
  expect(task.status, task.error).toBe('completed');
}

/** A query on a node, through its hosts' addresses (the writable member for n1). */
async function sql(node: 'n1' | 'n2', text: string, params: unknown[] = []) {
  const hosts = node === 'n1' ? [m('host-1').address, m('host-2').address] : [m('host-3').address];
  let last: unknown;
  for (const host of hosts) {
    const c = new pg.Client({ host, port: node === 'n1' ? port : port + 1, user: 'admin', password: 'password', database: 'app', connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      if ((await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) { last = new Error(`${host} is a replica`); continue; }
      return (await c.query(text, params)).rows;
    } catch (err) {
      last = err;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  throw last;
}

const has = (node: 'n1' | 'n2', table: string, key: string) => async () => (await sql(node, `SELECT 1 FROM ${table} WHERE id = $1`, [key])).length === 1;

async function objectsOf(docker: Docker) {
  const filters = JSON.stringify({ label: [`${labels.databaseId}=${id}`] });
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }), docker.listVolumes({ filters }), docker.listNetworks({ filters }),
  ]);
  return { containers: containers.map((c) => c.Names[0]!.slice(1)), volumes: (volumes.Volumes ?? []).map((v) => v.Name), networks };
}

beforeAll(async () => {
  const stack = inject('stack');
  const t0 = performance.now();
  machines = await startMachines(hostIds, { images: [manifestEntry('15')!.image] });
  console.log(`three machines (netns + dockerd + image) up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  temporal = await testTemporalClient(stack.temporalAddress, stack.namespace);
  // The API registers host-1 at cluster init with its own configuration: host-1's machine address.
  const config = loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_HOST_ADDRESS: m('host-1').address, PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_CA_FILE: stack.etcdCaFile, PGCP_HEARTBEAT_MS: '1000' });
  t = await createTestApp({ temporal, config });
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  // Patroni in every machine's containers reaches etcd on the root namespace's docker0 address (routed via the bridge).
  const etcdForContainers = `${dockerBridgeAddress()}:${new URL(stack.etcdUrl).port}`;
  for (const [i, h] of hostIds.entries()) {
    workers.push(startWorkerProcess(t.db.url, h, {
      hostOnly: i > 0,
      env: { PGCP_HOST_ADDRESS: m(h).address, PGCP_DOCKER_HOST: m(h).dockerHost, PGCP_ETCD_CONTAINER_HOSTS: etcdForContainers, PGCP_LOG_LEVEL: 'info' },
      logFile: path.join(projectRoot, '.data', 'test-stack', `machines-${h}.log`),
    }));
  }
  await waitFor('three healthy hosts on their machines', async () => {
    const hosts = (await call('GET', '/v1/hosts')).body.hosts as any[];
    return hosts.length === 3 && hosts.every((h) => h.status.state === 'healthy' && h.ipv4_address === m(h.id).address);
  }, 90_000, 1000);
}, 600_000);

afterAll(async () => {
  try {
    if (t) await forceDeleteDatabase(call, id);
  } finally {
    for (const w of workers) await killWorker(w);
    await machines?.teardown();
    await temporal?.connection.close();
    await t?.db.drop();
  }
  expect(machinesGone()).toBe(true);
}, 300_000);

it('a database over three machines: replication, switchover, an engine down and back, delete', async () => {
  const spec = {
    database_name: 'app',
    database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], port, patroni_port: port + 400 }, { name: 'n2', host_ids: ['host-3'], port: port + 1 }],
  };
  let t0 = performance.now();
  const created = await call('POST', '/v1/databases', { id, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  await finished(created.body.task.task_id);
  console.log(`create over three machines: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Each engine runs exactly its host's instance, on a network of its own; nothing on the main engine.
  const expected: Record<string, string> = { 'host-1': ids.instance(id, 'n1', 'host-1'), 'host-2': ids.instance(id, 'n1', 'host-2'), 'host-3': ids.instance(id, 'n2', 'host-3') };
  const networkIds = new Set<string>();
  for (const h of hostIds) {
    const o = await objectsOf(m(h).docker);
    expect(o.containers).toEqual([expected[h]]);
    expect(o.networks).toHaveLength(1);
    const members = Object.values((await m(h).docker.getNetwork(o.networks[0]!.Id).inspect()).Containers ?? {}).map((c: any) => c.Name);
    expect(members).toEqual([expected[h]]);
    networkIds.add(o.networks[0]!.Id);
  }
  expect(networkIds.size).toBe(3);
  expect((await objectsOf(createDocker())).containers).toEqual([]);
  // n1's members know each other by host address and published ports (Patroni's view of its cluster).
  const cluster = await (await fetch(`http://${m('host-1').address}:${port + 400}/cluster`)).json() as { members: { name: string; host: string; port: number; api_url: string }[] };
  expect(cluster.members.map((x) => [x.host, x.port, x.api_url]).sort()).toEqual([
    [m('host-1').address, port, `http://${m('host-1').address}:${port + 400}/patroni`],
    [m('host-2').address, port, `http://${m('host-2').address}:${port + 400}/patroni`],
  ]);

  // Rows and DDL both ways.
  await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await waitFor('table t on n2', async () => (await sql('n2', "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 60_000);
  await sql('n2', 'CREATE TABLE u (id text PRIMARY KEY)');
  await waitFor('table u on n1', async () => (await sql('n1', "SELECT to_regclass('public.u') IS NOT NULL AS ok"))[0].ok, 60_000);
  await sql('n2', "INSERT INTO t VALUES ('from-n2', 'n2', 'x')");
  await sql('n1', "INSERT INTO u VALUES ('from-n1')");
  await waitFor('n2 row on n1', has('n1', 't', 'from-n2'), 60_000);
  await waitFor('n1 row on n2', has('n2', 'u', 'from-n1'), 60_000);

  // Switchover of n1 (host-1 → host-2, across engines) under a writer on both nodes.
  const w = await startWriter([
    { node: 'n1', port, hosts: [m('host-1').address, m('host-2').address] },
    { node: 'n2', port: port + 1, host: m('host-3').address },
  ], { user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: 10 });
  await new Promise((r) => setTimeout(r, 2000));
  const sw = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {});
  expect(sw.status, JSON.stringify(sw.body)).toBe(200);
  await finished(sw.body.task.task_id, 180_000);
  await new Promise((r) => setTimeout(r, 3000));
  await w.stop();
  const primary = (await call('GET', `/v1/databases/${id}`)).body.instances.find((i: any) => i.node_name === 'n1' && i.postgres?.role === 'primary');
  expect(primary?.host_id).toBe('host-2');
  const want = w.acknowledged.map((a) => a.id);
  console.log(`switchover across engines: longest write gap on n1 ${w.longestGap('n1')} ms; ${want.length} rows acknowledged, ${w.errors.length} refused meanwhile`);
  for (const node of ['n1', 'n2'] as const) {
    await waitFor(`${want.length} acknowledged rows on ${node}`, async () => (await sql(node, 'SELECT id FROM t WHERE id = ANY ($1)', [want])).length === want.length, 90_000, 1000);
  }
  await sql('n2', "INSERT INTO t VALUES ('after-switchover-n2', 'n2', 'x')");
  await sql('n1', "INSERT INTO t VALUES ('after-switchover-n1', 'n1', 'x')");
  await waitFor('n2 row on the new n1 primary', has('n1', 't', 'after-switchover-n2'), 60_000);
  await waitFor('the new n1 primary row on n2', has('n2', 't', 'after-switchover-n1'), 60_000);

  // host-2's engine stops (its machine's dockerd): degraded; it starts again: available. No API call in between.
  const state = async () => (await call('GET', `/v1/databases/${id}`)).body.state;
  t0 = performance.now();
  await m('host-2').stopEngine();
  await waitFor('degraded', async () => (await state()) === 'degraded', 120_000, 1000);
  console.log(`host-2's engine stopped: degraded after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await waitFor('n1 writable again on host-1', async () => {
    await sql('n1', "INSERT INTO t VALUES ('while-host-2-down', 'n1', 'x') ON CONFLICT DO NOTHING");
    return true;
  }, 120_000, 2000);
  t0 = performance.now();
  await m('host-2').startEngine();
  await waitFor('available, every instance running', async () => {
    const db = (await call('GET', `/v1/databases/${id}`)).body;
    return db.state === 'available' && db.instances.every((i: any) => i.state === 'available' && ['running', 'streaming'].includes(i.postgres?.patroni_state));
  }, 300_000, 1000);
  console.log(`host-2's engine started: available after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await waitFor('n1 row written while host-2 was down, on n2', has('n2', 't', 'while-host-2-down'), 60_000);
  // host-2's instance is a replica again and has what n1 wrote meanwhile (streaming replication across engines)
  await waitFor('the row on host-2\'s replica', async () => {
    const c = new pg.Client({ host: m('host-2').address, port, user: 'admin', password: 'password', database: 'app', connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      const row = (await c.query("SELECT pg_is_in_recovery() AS r, EXISTS (SELECT 1 FROM t WHERE id = 'while-host-2-down') AS has")).rows[0];
      return row.r === true && row.has === true;
    } finally { await c.end().catch(() => undefined); }
  }, 120_000, 1000);

  // Delete: nothing left on any engine.
  const del = await call('DELETE', `/v1/databases/${id}`);
  expect(del.status).toBe(200);
  await finished(del.body.task.task_id, 180_000);
  for (const docker of [...hostIds.map((h) => m(h).docker), createDocker()]) {
    expect(await objectsOf(docker)).toEqual({ containers: [], volumes: [], networks: [] });
  }
}, 1_500_000);
