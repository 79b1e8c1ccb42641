// Cluster membership on two simulated machines (test/support/machines.ts): host-1's server (the API in this
// process, served over HTTP, and its worker process) runs the cluster; host-2's server — its own API process and
// agent process, started with PGCP_JOINS_CLUSTER and nothing else about the cluster — joins with the join token and
// host-1's URL, while a database is being created. A bad token is refused; the joined host gets a replica of n1
// (rows stream to it); removing it is refused while it holds the replica; forced, it is a remove_host host task
// whose log reads through the host task endpoints, its replica goes from its engine (its agent still answers), and
// n1 keeps its primary and takes writes. What host-2 runs on comes only from the join: the control plane's key, its own
// store role and etcd user (0600 files); a rotation replaces them while its processes restart; its removal revokes them.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { labels } from '../../activities/docker/client.js';
import { manifestEntry } from '../../activities/docker/images.js';
import { dockerBridgeAddress, loadConfig, projectRoot } from '../../platform/config.js';
import { membershipFile } from '../../platform/membership.js';
import { authenticate } from '../../activities/etcd.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { recordHistory } from '../support/histories.js';
import { machinesGone, startMachines, type Machine, type Machines } from '../support/machines.js';
import { testSecretKey } from '../support/secret-key.js';
import { createTestStore } from '../support/store.js';
import { forceDeleteDatabase } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { killWorker, startWorkerProcess } from '../support/worker-process.js';
import { freePorts } from '../support/ports.js';

const id = `join-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
const apiPort1 = 31000 + Math.floor(Math.random() * 500);
const apiPort2 = apiPort1 + 500;
const host1Url = `http://127.0.0.1:${apiPort1}`;
const host2Url = `http://127.0.0.1:${apiPort2}`;
let machines: Machines | null = null;
const m = (hostId: string): Machine => machines!.machines.find((x) => x.hostId === hostId)!;
let t: TestApp;
let temporal: Client;
let server: ServerType | null = null;
const processes: ChildProcess[] = [];
const logDir = path.join(projectRoot, '.data', 'test-stack');
/** host-2's data directory: its Patroni configs, and what its join learned. */
const host2Dir = path.join(logDir, 'hosts', `joined-${id}`);

/**
 * Nothing about the cluster: what host-2's processes use must come from the join — not even the control plane's key
 * or etcd's root password (unset: the spawned process has no such variable).
 */
const unreachable = {
  PGCP_STORE_URL: 'postgres://nobody@127.0.0.1:1/none', PGCP_TEMPORAL_ADDRESS: '127.0.0.1:1', PGCP_ETCD_URL: 'http://127.0.0.1:1', PGCP_NAMESPACE: 'none',
  PGCP_SECRET_KEY_FILE: undefined as unknown as string, PGCP_SECRET_KEY: undefined as unknown as string, PGCP_ETCD_PASSWORD_FILE: undefined as unknown as string,
};

const stackEtcdUrl = () => inject('stack').etcdUrl;

async function http(method: string, url: string, body?: unknown) {
  const res = await fetch(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
}
const call = (method: string, p: string, body?: unknown) => http(method, `${host1Url}${p}`, body);

async function finished(taskId: string, timeoutMs = 300_000) {
  const task = await waitFor(`task ${taskId}`, async () => {
    const r = await call('GET', `/v1/databases/${id}/tasks/${taskId}`);
    return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : null;
  }, timeoutMs, 1000);
  expect(task.status, task.error).toBe('completed');
}

async function query(host: string, text: string, params: unknown[] = []) {
  const c = new pg.Client({ host, port, user: 'admin', password: 'password', database: 'app', connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return (await c.query(text, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** host-2's processes as its launcher runs them: started again whenever they exit (a rotation makes them exit). */
const supervised: { stop: () => Promise<void> }[] = [];
function supervise(start: () => ChildProcess): void {
  let child = start();
  let stopped = false;
  const watch = () => child.once('exit', () => { if (!stopped) { child = start(); watch(); } });
  watch();
  supervised.push({ stop: async () => { stopped = true; await killWorker(child); } });
}

function startHost2Api(): ChildProcess {
  const out = openSync(path.join(logDir, 'join-host-2-api.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'api', 'main.ts')], {
    cwd: projectRoot, stdio: ['ignore', out, out],
    env: {
      ...process.env, ...unreachable, PGCP_HOST_ID: 'host-2', PGCP_JOINS_CLUSTER: 'true', PGCP_DATA_DIR: host2Dir,
      PGCP_HOST_ADDRESS: m('host-2').address, PGCP_API_PORT: String(apiPort2), PGCP_API_BIND: '127.0.0.1', PGCP_LOG_LEVEL: 'info',
    },
  });
  closeSync(out);
  return child;
}

beforeAll(async () => {
  const stack = inject('stack');
  for (const f of ['join-host-2-api.log', 'join-host-2-agent.log', 'join-host-1.log']) rmSync(path.join(logDir, f), { force: true });

  machines = await startMachines(['host-1', 'host-2'], { images: [manifestEntry('15')!.image] });
  temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: stack.namespace });
  const db = await createTestStore(stack.storeUrl);
  // host-1's server: what it tells a joining host is its own configuration (Temporal, the store, etcd).
  const etcdForContainers = `${dockerBridgeAddress()}:${new URL(stack.etcdUrl).port}`;
  const config = loadConfig({
    PGCP_HOST_ID: 'host-1', PGCP_HOST_ADDRESS: m('host-1').address, PGCP_API_PORT: String(apiPort1), PGCP_HEARTBEAT_MS: '1000',
    PGCP_STORE_URL: db.url, PGCP_TEMPORAL_ADDRESS: stack.temporalAddress, PGCP_NAMESPACE: stack.namespace,
    PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_CA_FILE: stack.etcdCaFile, PGCP_ETCD_CONTAINER_HOSTS: etcdForContainers, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile,
  });
  t = await createTestApp({ temporal, config, secretKey: testSecretKey() }, db);
  server = serve({ fetch: t.app.fetch, port: apiPort1, hostname: '127.0.0.1' });
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  processes.push(startWorkerProcess(db.url, 'host-1', {
    env: { PGCP_HOST_ADDRESS: m('host-1').address, PGCP_DOCKER_HOST: m('host-1').dockerHost, PGCP_ETCD_CONTAINER_HOSTS: etcdForContainers, PGCP_LOG_LEVEL: 'info' },
    logFile: path.join(logDir, 'join-host-1.log'),
  }));
  // host-2's server: an API that can only join, and an agent that waits for the join.
  supervise(startHost2Api);
  supervise(() => startWorkerProcess(unreachable.PGCP_STORE_URL, 'host-2', {
    hostOnly: true,
    env: { ...unreachable, PGCP_JOINS_CLUSTER: 'true', PGCP_DATA_DIR: host2Dir, PGCP_HOST_ADDRESS: m('host-2').address, PGCP_DOCKER_HOST: m('host-2').dockerHost, PGCP_LOG_LEVEL: 'info' },
    logFile: path.join(logDir, 'join-host-2-agent.log'),
  }));
  await waitFor('host-1 healthy, host-2\'s API answering', async () => {
    const hosts = (await call('GET', '/v1/hosts')).body.hosts as any[];
    const v = await http('GET', `${host2Url}/v1/version`).catch(() => null);
    return hosts.length === 1 && hosts[0].status.state === 'healthy' && v?.status === 200;
  }, 90_000, 1000);
}, 600_000);

afterAll(async () => {
  try {
    if (t) await forceDeleteDatabase(call, id);
  } finally {
    for (const p of processes) await killWorker(p);
    for (const p of supervised) await p.stop();
    server?.close();
    await machines?.teardown();
    await temporal?.connection.close();
    await t?.db.drop();
    rmSync(host2Dir, { recursive: true, force: true });
  }
  expect(machinesGone()).toBe(true);
}, 300_000);

it('a host joins with a token, gets a replica, is refused removal while it holds it, and is removed by force', async () => {
  const created = await call('POST', '/v1/databases', {
    id,
    spec: {
      database_name: 'app',
      database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
      nodes: [{ name: 'n1', host_ids: ['host-1'], port, patroni_port: port + 400 }],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);

  // While the create runs: before its join, host-2's server answers only the join.
  expect((await http('GET', `${host2Url}/v1/hosts`)).body).toEqual({ name: 'cluster_not_initialized', message: 'this operation is invalid on an uninitialized cluster' });
  const token = (await call('GET', '/v1/cluster/join-token')).body as { token: string; server_urls: string[] };
  const wrong = `PGEDGE-${'0'.repeat(64)}-${'0'.repeat(32)}`;
  const bad = await http('POST', `${host2Url}/v1/cluster/join`, { token: wrong, server_urls: [host1Url] });
  expect(bad).toEqual({ status: 401, body: { name: 'invalid_join_token', message: 'the given join token is invalid' } });
  expect(() => statSync(membershipFile(host2Dir))).toThrow();

  let t0 = performance.now();
  const joined = await http('POST', `${host2Url}/v1/cluster/join`, { token: token.token, server_urls: [host1Url] });
  expect(joined.status, JSON.stringify(joined.body)).toBe(204);
  console.log(`join answered in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // What it learned is kept in its data directory, owner-only; a second join is refused.
  expect(statSync(membershipFile(host2Dir)).mode & 0o777).toBe(0o600);
  const kept = JSON.parse(readFileSync(membershipFile(host2Dir), 'utf8'));
  expect(kept).toMatchObject({ host_id: 'host-2', temporal: { namespace: inject('stack').namespace }, credentials: { username: expect.stringMatching(/^pgcp-host-host-2-/), password: expect.any(String) } });
  // its own store role (not host-1's), its own etcd user; the control plane's key in its own 0600 file
  let host2Store = new URL(kept.store.url);
  expect(host2Store.username).toMatch(/^pgcp_host_host_2_/);
  expect(host2Store.pathname).toBe(new URL(t.db.url).pathname);
  let host2Etcd = { user: kept.credentials.username as string, password: kept.credentials.password as string };
  expect(statSync(path.join(host2Dir, 'secret.key')).mode & 0o777).toBe(0o600);
  expect(Buffer.from(readFileSync(path.join(host2Dir, 'secret.key'), 'utf8').trim(), 'base64')).toEqual(testSecretKey());
  expect((await http('POST', `${host2Url}/v1/cluster/join`, { token: token.token, server_urls: [host1Url] })).body.name).toBe('cluster_already_initialized');
  await waitFor('host-2 healthy, on its machine', async () => {
    const hosts = (await call('GET', '/v1/hosts')).body.hosts as any[];
    return hosts.some((h) => h.id === 'host-2' && h.status.state === 'healthy' && h.ipv4_address === m('host-2').address && h.supported_pgedge_versions?.length > 0);
  }, 90_000, 1000);
  console.log(`host-2 healthy ${((performance.now() - t0) / 1000).toFixed(1)} s after its join`);
  // host-2's server now serves the whole API over the cluster's store.
  expect(((await http('GET', `${host2Url}/v1/hosts`)).body.hosts as any[]).map((h) => h.id)).toEqual(['host-1', 'host-2']);
  await finished(created.body.task.task_id);

  // Rotation (npm run rotate-credentials on host-2): new store role and etcd user; host-2's API and agent restart on
  // them, then the old ones are revoked. host-2 stays healthy and takes its replica below on the new ones.
  t0 = performance.now();
  const rotation = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'rotate-credentials.ts')], {
      cwd: projectRoot, env: { ...process.env, ...unreachable, PGCP_HOST_ID: 'host-2', PGCP_DATA_DIR: host2Dir, PGCP_JOINS_CLUSTER: 'true' },
    });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    child.once('exit', (code) => resolve({ code, out }));
  });
  expect(rotation.code, rotation.out).toBe(0);
  console.log(`rotation: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${rotation.out.trim().split('\n').at(-1)}`);
  const rotated = JSON.parse(readFileSync(membershipFile(host2Dir), 'utf8'));
  const rotatedStore = new URL(rotated.store.url);
  expect(rotatedStore.username).toMatch(/^pgcp_host_host_2_/);
  expect(rotatedStore.username).not.toBe(host2Store.username);
  expect(rotated.credentials.username).not.toBe(host2Etcd.user);
  const oldLogin = new pg.Client({ connectionString: host2Store.toString(), connectionTimeoutMillis: 3000 });
  await expect(oldLogin.connect()).rejects.toThrow(/password authentication failed|does not exist/);
  await oldLogin.end().catch(() => undefined);
  await expect(authenticate(stackEtcdUrl(), host2Etcd, readFileSync(inject('stack').etcdCaFile, 'utf8'))).rejects.toThrow(/authentication failed/);
  const rotatedAt = Date.now();
  await waitFor('host-2 healthy again, on its new credentials', async () => {
    const h = (await call('GET', '/v1/hosts/host-2')).body;
    return h.status?.state === 'healthy' && Date.parse(h.status.updated_at) > rotatedAt;
  }, 60_000, 1000);
  host2Store = rotatedStore;
  host2Etcd = { user: rotated.credentials.username, password: rotated.credentials.password };

  // host-2 gets a replica of n1: rows written on the primary reach it.
  await query(m('host-1').address, 'CREATE TABLE t (id text PRIMARY KEY)');
  await query(m('host-1').address, "INSERT INTO t VALUES ('before-replica')");
  t0 = performance.now();
  const spec = (await call('GET', `/v1/databases/${id}`)).body.spec;
  const updated = await call('POST', `/v1/databases/${id}`, { spec: { ...spec, nodes: [{ ...spec.nodes[0], host_ids: ['host-1', 'host-2'] }] } });
  expect(updated.status, JSON.stringify(updated.body)).toBe(200);
  await finished(updated.body.task.task_id);
  console.log(`replica on the joined host: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await query(m('host-1').address, "INSERT INTO t VALUES ('after-replica')");
  await waitFor('both rows on host-2\'s replica', async () => {
    const rows = await query(m('host-2').address, 'SELECT pg_is_in_recovery() AS r, count(*)::int AS n FROM t');
    return rows[0].r === true && rows[0].n === 2;
  }, 60_000, 1000);

  // Not while it holds the replica; a server never removes its own host.
  expect(await call('DELETE', '/v1/hosts/host-2')).toEqual({ status: 400, body: { name: 'invalid_input', message: 'cannot remove host with running instances' } });
  expect(await call('DELETE', '/v1/hosts/host-1?force=true')).toEqual({ status: 400, body: { name: 'invalid_input', message: 'a host cannot remove itself from the cluster' } });
  expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');

  // Forced: a remove_host host task, with the database's update as its child.
  t0 = performance.now();
  const removed = await call('DELETE', '/v1/hosts/host-2?force=true');
  expect(removed.status, JSON.stringify(removed.body)).toBe(200);
  const hostTask = removed.body.task;
  expect(hostTask).toMatchObject({ scope: 'host', entity_id: 'host-2', host_id: 'host-2', type: 'remove_host', status: 'pending' });
  expect(removed.body.update_database_tasks).toEqual([expect.objectContaining({ scope: 'database', database_id: id, parent_id: hostTask.task_id, type: 'update' })]);
  const done = await waitFor('remove_host', async () => {
    const r = await call('GET', `/v1/hosts/host-2/tasks/${hostTask.task_id}`);
    return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : null;
  }, 300_000, 1000);
  expect(done.status, done.error).toBe('completed');
  console.log(`remove_host: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // newest first (earlier runs' host-2 tasks may be listed after it: the test namespace keeps them)
  const listed = (await call('GET', '/v1/hosts/host-2/tasks?limit=1')).body.tasks as any[];
  expect(listed).toEqual([expect.objectContaining({ task_id: hostTask.task_id, scope: 'host', type: 'remove_host', status: 'completed' })]);
  const log = (await call('GET', `/v1/hosts/host-2/tasks/${hostTask.task_id}/logs`)).body;
  expect(log).toMatchObject({ scope: 'host', entity_id: 'host-2', task_id: hostTask.task_id, task_status: 'completed' });
  expect(log.entries.length).toBeGreaterThan(0);
  expect((await call('GET', `/v1/hosts/host-2/tasks/${hostTask.task_id}/logs?limit=1`)).body.entries).toHaveLength(1);
  expect((await call('GET', `/v1/databases/${id}/tasks/${hostTask.task_id}`)).status).toBe(404);
  await finished(removed.body.update_database_tasks[0].task_id);
  await recordHistory(temporal, hostTask.task_id, 'forced');

  // host-2 is gone; n1 keeps its primary on host-1 and takes writes.
  expect(((await call('GET', '/v1/hosts')).body.hosts as any[]).map((h) => h.id)).toEqual(['host-1']);
  expect((await call('GET', '/v1/hosts/host-2')).status).toBe(404);
  const db = (await call('GET', `/v1/databases/${id}`)).body;
  expect(db.state).toBe('available');
  expect(db.spec.nodes).toEqual([expect.objectContaining({ name: 'n1', host_ids: ['host-1'] })]);
  expect(db.instances.map((i: any) => [i.host_id, i.postgres?.role])).toEqual([['host-1', 'primary']]);
  const left = await m('host-2').docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
  expect(left.map((c) => c.Names[0])).toEqual([]);
  await query(m('host-1').address, "INSERT INTO t VALUES ('after-removal')");
  expect((await query(m('host-1').address, 'SELECT count(*)::int AS n FROM t'))[0].n).toBe(3);

  // The removal revoked host-2's own credentials: the store refuses its role, etcd its user.
  const again = new pg.Client({ connectionString: host2Store.toString(), connectionTimeoutMillis: 3000 });
  await expect(again.connect()).rejects.toThrow(/password authentication failed|does not exist/);
  await again.end().catch(() => undefined);
  await expect(authenticate(stackEtcdUrl(), host2Etcd, readFileSync(inject('stack').etcdCaFile, 'utf8'))).rejects.toThrow(/authentication failed/);
  // Its credentials went only through the join: not in host-2's logs, nor in the remove_host task's log.
  const logs = ['join-host-2-api.log', 'join-host-2-agent.log', 'join-host-1.log'].map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('\n');
  for (const secret of [decodeURIComponent(host2Store.password), host2Etcd.password, testSecretKey().toString('base64')]) {
    expect(logs.includes(secret)).toBe(false);
    expect(JSON.stringify(log).includes(secret)).toBe(false);
  }
}, 1_200_000);
