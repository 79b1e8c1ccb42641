// One 2-node database, node n1 with a replica (host-1, host-2), the other node with a long name (n1000000002), on
// which these run in order:
// - the control plane stopped for 60 s: every worker process killed and etcd unreachable from the database's
//   containers (its packets rejected, as a stopped etcd does; the stack's etcd itself keeps serving the other test
//   files). Patroni's failsafe mode keeps each primary: writes on both nodes never pause long, nobody is demoted;
// - a switchover of n1: the long-named node's slot on n1 (pglogical shortens its name with a hash: it does not end
//   with its subscription's name) is on the new primary, and n1's new writes reach that node;
// - an add-node update cancelled after it reserved its slot on the peer: no slot of the new node is left;
// - an update removing the long-named node: its slot on n1 is dropped and undeclared in Patroni;
// - a slot nobody reads past max_slot_wal_keep_size: Postgres invalidates it, and the monitor reports it lost.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { stackPorts } from '../../scripts/stack.js';
import { ids } from '../../workflows/model/ids.js';
import type { ApiCall } from '../support/api-client.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { expectTaskCompleted, forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `os-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(3);
const long = 'n1000000002';
const n1Hosts = ['host-1', 'host-2'];
const address = (host: string) => `127.0.0.${host.slice(5)}`;
const portOf = (n: string) => (n === 'n1' ? port : n === long ? port + 1 : port + 2);
const users = [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }];
const node = (name: string, hostIds = ['host-1']) => ({ name, host_ids: hostIds, port: portOf(name) });
const spec = (nodes: object[]) => ({ database_name: 'app', database_users: users, nodes });
let stack: ProcessStack | undefined;
const call: ApiCall = (method, url, body) => stack!.call(method, url, body);
const sql = (n: string, text: string, params: unknown[] = [], host = 'host-1') => query(nodeConnection(portOf(n), { host: address(host), password: 'password' }), text, params);
const logicalSlots = async (n: string, host = 'host-1') =>
  (await sql(n, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY 1", [], host)).map((r) => r.slot_name as string);
/** The slot the subscription on `subscriber` reading `provider` records (pglogical's own catalog). */
const recordedSlot = async (subscriber: string, provider: string, host = 'host-1') =>
  (await sql(subscriber, 'SELECT sub_slot_name FROM pglogical.subscription WHERE sub_name = $1', [ids.subscription(subscriber, provider)], host))[0]?.sub_slot_name as string;

async function n1Primary(): Promise<string | null> {
  for (const h of n1Hosts) {
    const r = await sql('n1', 'SELECT pg_is_in_recovery() AS r', [], h).catch(() => null);
    if (r && !r[0].r) return h;
  }
  return null;
}
const containerIp = async (instanceId: string) => (await docker.getContainer(instanceId).inspect()).NetworkSettings.Networks[ids.network(id)]!.IPAddress;
const patroni = async (instanceId: string) => (await (await fetch(`http://${await containerIp(instanceId)}:8008/patroni`, { signal: AbortSignal.timeout(3000) })).json()) as Record<string, unknown>;

/** The longest time in [from, to] with no acknowledged row of the node. */
function longestGap(acks: { node: string; at: number }[], n: string, from: number, to: number): number {
  const times = [from, ...acks.filter((a) => a.node === n && a.at >= from && a.at <= to).map((a) => a.at), to];
  return times.slice(1).reduce((max, t, i) => Math.max(max, t - times[i]!), 0);
}

beforeAll(async () => {
  stack = await startProcessStack(['host-1', 'host-2']);
  const created = await call('POST', '/v1/databases', { id, spec: spec([node('n1', n1Hosts), node(long)]) });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  await expectTaskCompleted(call, id, created.body.task.task_id, { timeoutMs: 420_000 });
  await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)', [], (await n1Primary())!);
  await waitFor(`table t on ${long}`, async () => (await sql(long, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
  await waitFor('every instance available', async () => (await call('GET', `/v1/databases/${id}`)).body.instances?.every((i: any) => i.state === 'available'), 120_000, 1000);
}, 600_000);

afterAll(async () => {
  if (!stack) return;
  await forceDeleteDatabase(call, id);
  await stack.stop();
});

it('with the control plane stopped and etcd unreachable for 60 s, every primary keeps taking writes and none is demoted', async () => {
  const primaryHost = (await n1Primary())!;
  const leader = ids.instance(id, 'n1', primaryHost);
  const w = await startWriter([{ node: 'n1', port: portOf('n1'), hosts: n1Hosts.map(address) }, { node: long, port: portOf(long) }],
    { user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: 10 });
  await sleep(2000);
  const subnet = String(((await docker.getNetwork(ids.network(id)).inspect()) as { IPAM?: { Config?: { Subnet?: string }[] } }).IPAM?.Config?.[0]?.Subnet);
  const rule = ['INPUT', '-s', subnet, '-p', 'tcp', '--dport', String(stackPorts.etcd), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  const from = Date.now();
  await stack!.stopWorkers();
  execFileSync('iptables', ['-I', ...rule]);
  let failsafe: unknown;
  try {
    await sleep(30_000);
    failsafe = (await patroni(leader)).failsafe_mode_is_active; // Patroni runs on without its DCS, and says so
    await sleep(30_000);
  } finally {
    execFileSync('iptables', ['-D', ...rule]);
  }
  const to = Date.now();
  stack!.startWorkers();
  await sleep(2000);
  await w.stop();
  console.log(`outage ${((to - from) / 1000).toFixed(0)} s: longest write gap n1 ${longestGap(w.acknowledged, 'n1', from, to)} ms, ${long} ${longestGap(w.acknowledged, long, from, to)} ms; `
    + `${w.acknowledged.filter((a) => a.at >= from && a.at <= to).length} rows acknowledged, ${w.errors.length} errors`);
  expect(failsafe).toBe(true);
  expect(w.errors.filter((e) => e.at >= from && e.at <= to)).toEqual([]);
  expect(longestGap(w.acknowledged, 'n1', from, to)).toBeLessThan(5000);
  expect(longestGap(w.acknowledged, long, from, to)).toBeLessThan(5000);
  expect(await n1Primary()).toBe(primaryHost); // not demoted, not replaced
  // everything back: the database available and every acknowledged row on both nodes
  await waitFor('the database available again', async () => {
    const db = (await call('GET', `/v1/databases/${id}`)).body;
    return db.state === 'available' && db.instances?.every((i: any) => i.state === 'available');
  }, 180_000, 1000);
  const written = w.acknowledged.map((a) => a.id);
  for (const n of ['n1', long]) {
    await waitFor(`every acknowledged row on ${n}`, async () =>
      Number((await sql(n, 'SELECT count(*) AS c FROM t WHERE id = ANY($1)', [written], n === 'n1' ? primaryHost : 'host-1'))[0].c) === written.length, 60_000, 500);
  }
});

it('a switchover of n1 keeps the long-named node\'s slot (named with a hash, not its subscription\'s name): n1\'s writes still reach it', async () => {
  const slot = await recordedSlot(long, 'n1');
  expect(slot.endsWith(`_${ids.subscription(long, 'n1')}`)).toBe(false); // what made it invisible to suffix matching
  const before = (await n1Primary())!;
  const r = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {});
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  await expectTaskCompleted(call, id, r.body.task.task_id, { timeoutMs: 300_000 });
  const after = (await n1Primary())!;
  expect(after).not.toBe(before);
  expect(await logicalSlots('n1', after)).toContain(slot);
  await sql('n1', "INSERT INTO t VALUES ('after-switchover', 'n1', 'x')", [], after);
  await waitFor(`n1's row on ${long}`, async () => (await sql(long, "SELECT 1 FROM t WHERE id = 'after-switchover'")).length === 1, 60_000, 250);
});

it('an add-node update cancelled after reserving its slot on the peer leaves no slot of the new node anywhere', async () => {
  const primary = (await n1Primary())!;
  // enough data that the copy is still running when the cancel arrives
  await sql('n1', "INSERT INTO t SELECT 'bulk-' || g, 'n1', repeat(md5(g::text), 8) FROM generate_series(1, 200000) g", [], primary);
  const expected = { n1: [await recordedSlot(long, 'n1')], [long]: [await recordedSlot('n1', long, primary)] };
  const r = await call('POST', `/v1/databases/${id}`, { spec: spec([node('n1', n1Hosts), node(long), node('n3')]) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const taskId = r.body.task.task_id as string;
  const reserved = await waitFor(`n3's slot on ${long}`, async () => (await logicalSlots(long)).find((s) => !expected[long].includes(s)) ?? null, 300_000, 100);
  expect((await call('GET', `/v1/databases/${id}/tasks/${taskId}/cancel`)).status).toBe(200);
  expect((await waitForTask(call, id, taskId)).status).toBe('canceled');
  expect(await logicalSlots(long)).toEqual(expected[long]);
  expect(await logicalSlots(long)).not.toContain(reserved);
  expect(await logicalSlots('n1', primary)).toEqual(expected.n1); // the copy's slot on the source went too
});

it('an update removing the long-named node drops its slot on n1 and undeclares it in Patroni', async () => {
  const primary = (await n1Primary())!;
  const slot = await recordedSlot(long, 'n1');
  expect(await logicalSlots('n1', primary)).toContain(slot);
  const r = await call('POST', `/v1/databases/${id}`, { spec: spec([node('n1', n1Hosts)]) }); // n3's unfinished join goes too
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  await expectTaskCompleted(call, id, r.body.task.task_id, { timeoutMs: 300_000 });
  expect(await logicalSlots('n1', primary)).toEqual([]);
  const config = (await (await fetch(`http://${await containerIp(ids.instance(id, 'n1', primary))}:8008/config`)).json()) as { slots?: Record<string, unknown> };
  expect(Object.keys(config.slots ?? {})).toEqual([]);
});

it('a slot left behind past max_slot_wal_keep_size is reported lost, on the status report and on its primary', async () => {
  const primary = (await n1Primary())!;
  const up = await call('POST', `/v1/databases/${id}`, { spec: spec([{ ...node('n1', n1Hosts), postgresql_conf: { max_slot_wal_keep_size: '48MB' } }]) });
  expect(up.status, JSON.stringify(up.body)).toBe(200);
  await expectTaskCompleted(call, id, up.body.task.task_id, { timeoutMs: 300_000 });
  // in effect once the update ended (it once ended first: a reload for another cause had passed for this one's)
  expect((await sql('n1', "SELECT current_setting('max_slot_wal_keep_size') AS v", [], primary))[0].v).toBe('48MB');
  // a logical slot nobody reads (of the output plugin Patroni is told to leave alone: a minor with
  // output_plugin_libraries lists it for this session first), then 256 MB of WAL past it: past Patroni's
  // wal_keep_size (128 MB), which keeps WAL whatever max_slot_wal_keep_size says
  await sql('n1', `SELECT pg_create_logical_replication_slot('pgcp_probe', 'pglogical_output')
      FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_settings WHERE name = 'output_plugin_libraries')
                        THEN set_config('output_plugin_libraries', 'pglogical_output', false) END) AS allowed`, [], primary);
  for (let i = 0; i < 16; i++) {
    await sql('n1', "INSERT INTO t SELECT 'wal-' || $1 || '-' || g, 'n1', 'x' FROM generate_series(1, 100) g", [i], primary);
    await sql('n1', 'SELECT pg_switch_wal()', [], primary);
  }
  await sql('n1', 'CHECKPOINT', [], primary);
  expect((await sql('n1', "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'pgcp_probe'", [], primary))[0].wal_status).toBe('lost');
  const reported = await waitFor('the lost slot on the status report', async () => {
    const s = (await call('GET', `/v1/databases/${id}/status`)).body;
    return s.slots?.find((x: { name: string; wal_status?: string }) => x.name === 'pgcp_probe' && x.wal_status === 'lost') ?? null;
  }, 60_000, 1000);
  expect(reported).toMatchObject({ instance_id: ids.instance(id, 'n1', primary), type: 'logical' });
  const instance = (await call('GET', `/v1/databases/${id}`)).body.instances.find((i: { id: string }) => i.id === ids.instance(id, 'n1', primary));
  expect(instance.error).toMatch(/^replication slot pgcp_probe lost: Postgres removed WAL it still needed \(past max_slot_wal_keep_size\)/);
  await sql('n1', "SELECT pg_drop_replication_slot('pgcp_probe')", [], primary);
});
