// High availability with three hosts, each its own worker process on this Docker engine: a 2-node database whose
// nodes each have a replica on another host. Switchover under writes, a primary killed, failover, a scheduled and a
// cancelled restart, stop / start — checked by what a user sees: writes acknowledged, rows on every node, states.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { ids } from '../../workflows/model/ids.js';
import type { ApiCall } from '../support/api-client.js';
import { recordHistory } from '../support/histories.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitForSyncReplica } from '../support/replicas.js';
import { waitFor } from '../support/wait.js';
import { startWriter, type Writer } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `ha-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
const hostsOf = { n1: ['host-1', 'host-2'], n2: ['host-2', 'host-3'] } as const;
const address = (host: string) => `127.0.0.${host.slice(5)}`;
const portOf = (n: 'n1' | 'n2') => (n === 'n1' ? port : port + 1);
const instance = (n: 'n1' | 'n2', host: string) => ids.instance(id, n, host);
const spec = {
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: [...hostsOf.n1], port: portOf('n1') }, { name: 'n2', host_ids: [...hostsOf.n2], port: portOf('n2') }],
};
let stack: ProcessStack | undefined;
const call: ApiCall = (method, url, body) => stack!.call(method, url, body);
const sql = (host: string, n: 'n1' | 'n2', text: string, params: unknown[] = []) => query(nodeConnection(portOf(n), { host: address(host), password: 'password' }), text, params);

async function database() { return (await call('GET', `/v1/databases/${id}`)).body; }
async function primaryOf(n: 'n1' | 'n2'): Promise<string | undefined> {
  return (await database()).instances?.find((i: any) => i.node_name === n && i.state === 'available' && i.postgres?.role === 'primary')?.host_id;
}

const finished = (taskId: string, timeoutMs = 300_000) => waitForTask(call, id, taskId, { timeoutMs, intervalMs: 500 });

/** Every acknowledged row is on both nodes' primaries, once. */
async function expectNothingLost(w: Writer) {
  const want = w.acknowledged.map((a) => a.id);
  for (const n of ['n1', 'n2'] as const) {
    await waitFor(`${want.length} rows on ${n}`, async () => {
      const host = (await primaryOf(n))!;
      const rows = await sql(host, n, 'SELECT id FROM t WHERE id = ANY ($1)', [want]);
      return rows.length === want.length;
    }, 60_000, 1000);
  }
}

function writer(rate = 20) {
  return startWriter([{ node: 'n1', port: portOf('n1'), hosts: hostsOf.n1.map(address) }, { node: 'n2', port: portOf('n2'), hosts: hostsOf.n2.map(address) }],
    { user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: rate });
}

beforeAll(async () => {
  stack = await startProcessStack(['host-1', 'host-2', 'host-3']);
  await waitFor('three healthy hosts, each with its address', async () => {
    const hosts = (await call('GET', '/v1/hosts')).body.hosts as any[];
    return hosts.length === 3 && hosts.every((h) => h.status.state === 'healthy' && h.ipv4_address === address(h.id));
  }, 90_000, 1000);
  const created = await call('POST', '/v1/databases', { id, spec });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  expect((await finished(created.body.task.task_id, 420_000)).status).toBe('completed');
  await sql('host-1', 'n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await waitFor('table t on n2', async () => (await sql('host-2', 'n2', "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
}, 600_000);

afterAll(async () => {
  if (!stack) return;
  await forceDeleteDatabase(call, id);
  await stack.stop();
});

describe('read replicas on three hosts', () => {
  it('each node has a primary on its first host and a streaming replica on the other, on its host\'s address', async () => {
    const db = await database();
    for (const n of ['n1', 'n2'] as const) {
      const [first, second] = hostsOf[n];
      const byId = Object.fromEntries(db.instances.map((i: any) => [i.id, i]));
      expect(byId[instance(n, first)]).toMatchObject({ host_id: first, postgres: { role: 'primary' }, connection_info: { addresses: [address(first)], port: portOf(n) } });
      expect(byId[instance(n, second)]).toMatchObject({ host_id: second, postgres: { role: 'replica' }, connection_info: { addresses: [address(second)], port: portOf(n) } });
      // synchronous inside the node: a commit returns once the replica holds it, so a failover loses no acknowledged row
      const replica = await waitFor(`${n}'s replica synchronous`, async () => {
        const r = await sql(first, n, 'SELECT application_name, sync_state FROM pg_stat_replication WHERE sync_state = $1', ['sync']);
        return r.length > 0 ? r : null;
      }, 30_000, 500);
      expect(replica).toEqual([{ application_name: instance(n, second), sync_state: 'sync' }]); // the logical walsenders of the peers stay async
    }
  });
});

describe('switchover and failover', () => {
  it('a switchover of n1 under writes loses nothing, and replication works both ways afterwards', async () => {
    const w = await writer();
    await new Promise((r) => setTimeout(r, 2000));
    const before = Date.now();
    const r = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.task).toMatchObject({ type: 'switchover', node_name: 'n1', status: 'pending' });
    const task = await finished(r.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
    // The switchover ends with the node able to fail over again: the old primary is its synchronous standby (else
    // Patroni would promote no replica if the new primary were lost now).
    const replicas = (await call('GET', `/v1/databases/${id}/status`)).body.replicas as { node_name: string; instance_id: string; sync_state: string }[];
    expect(replicas.filter((x) => x.node_name === 'n1' && x.sync_state === 'sync').map((x) => x.instance_id)).toEqual([instance('n1', 'host-1')]);
    await new Promise((res) => setTimeout(res, 3000));
    await w.stop();
    const gap = w.longestGap('n1', before);
    console.log(`switchover through the API: longest write gap on n1 ${gap} ms; ${w.acknowledged.length} rows acknowledged, ${w.errors.length} refused meanwhile`);
    expect(await primaryOf('n1')).toBe('host-2');
    await expectNothingLost(w);
    const log = (await call('GET', `/v1/databases/${id}/tasks/${task.task_id}/log`)).body.entries.map((e: any) => e.message);
    expect(log.some((m: string) => m.includes(`switchover of node n1: ${instance('n1', 'host-1')} → ${instance('n1', 'host-2')}`))).toBe(true);
    await recordHistory(stack!.temporal, task.task_id, 'under-writes');
  });

  it('a failover of a healthy node is refused without skip_validation and happens with it', async () => {
    const refused = await finished((await call('POST', `/v1/databases/${id}/nodes/n2/failover`, {})).body.task.task_id);
    expect(refused).toMatchObject({ status: 'failed', error: expect.stringContaining('cluster is healthy; refuse failover unless skip_validation is true') });
    expect(await primaryOf('n2')).toBe('host-2');
    const r = await call('POST', `/v1/databases/${id}/nodes/n2/failover`, { skip_validation: true });
    expect((await finished(r.body.task.task_id)).status).toBe('completed');
    expect(await primaryOf('n2')).toBe('host-3');
    await sql('host-3', 'n2', "INSERT INTO t VALUES ('after-failover', 'n2', 'x')");
    await waitFor('n2\'s row on n1', async () => (await sql((await primaryOf('n1'))!, 'n1', "SELECT 1 FROM t WHERE id = 'after-failover'")).length === 1, 30_000);
    await recordHistory(stack!.temporal, refused.task_id, 'refused');
    await recordHistory(stack!.temporal, r.body.task.task_id, 'skip-validation');
  });

  it('refuses bad switchover input with the reference\'s errors', async () => {
    const past = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, { scheduled_at: '2020-01-01T00:00:00Z' });
    expect(past).toMatchObject({ status: 400, body: { name: 'invalid_input', message: 'scheduled_at must be in the future' } });
    const other = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, { candidate_instance_id: instance('n2', 'host-3') });
    expect(other).toMatchObject({ status: 400, body: { message: `candidate instance ${instance('n2', 'host-3')} does not belong to node n1` } });
    expect((await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, { candidate_instance_id: 'nope' })).status).toBe(404);
    expect((await call('POST', `/v1/databases/${id}/nodes/n7/switchover`, {})).status).toBe(400);
  });

  it('a killed primary is replaced without any API call, n2 replicates from n1 again, and the killed instance comes back as a replica', async () => {
    await waitForSyncReplica(call, id, 'n1'); // the member the last failover demoted has caught up
    const victimHost = (await primaryOf('n1'))!;
    const survivorHost = hostsOf.n1.find((h) => h !== victimHost)!;
    const victim = instance('n1', victimHost);
    const w = await writer();
    await new Promise((r) => setTimeout(r, 2000));
    const killedAt = Date.now();
    await docker.getContainer(victim).kill();
    await waitFor('the database degraded', async () => (await database()).state === 'degraded', 30_000);
    const promotedAt = await waitFor('a promoted replica', async () => {
      const rows = await sql(survivorHost, 'n1', 'SELECT NOT pg_is_in_recovery() AS p').catch(() => null);
      return rows?.[0]?.p ? Date.now() : null;
    }, 60_000, 250);
    // n2's subscription to n1 replicates again: a row written on n1's new primary reaches n2
    await sql(survivorHost, 'n1', "INSERT INTO t VALUES ('after-kill', 'n1', 'x')");
    const n2Primary = (await primaryOf('n2'))!;
    await waitFor('n1\'s row on n2', async () => (await sql(n2Primary, 'n2', "SELECT 1 FROM t WHERE id = 'after-kill'")).length === 1, 60_000, 250);
    const resumedAt = Date.now();
    await w.stop();
    console.log(`primary killed: promoted after ${promotedAt - killedAt} ms; n2 received n1's writes ${resumedAt - promotedAt} ms after the promotion; longest write gap on n1 ${w.longestGap('n1', killedAt - 1)} ms`);
    expect(resumedAt - promotedAt).toBeLessThan(15_000);
    await expectNothingLost(w);
    const back = await waitFor('the killed instance back as a replica', async () => {
      const i = (await database()).instances.find((x: any) => x.id === victim);
      return i?.state === 'available' && i.postgres?.role === 'replica' ? i : null;
    }, 120_000, 1000);
    expect(back.postgres.role).toBe('replica');
    await waitFor('the database available again', async () => (await database()).state === 'available', 30_000);
  });
});

describe('instance operations', () => {
  const startTime = async (host: string, n: 'n1' | 'n2') => (await sql(host, n, 'SELECT pg_postmaster_start_time() AS t'))[0].t as Date;

  it('a restart scheduled 10 s ahead happens then and is a task; a cancelled one does not happen', async () => {
    const target = instance('n2', 'host-2');
    const at = new Date(Date.now() + 10_000);
    const r = await call('POST', `/v1/databases/${id}/instances/${target}/restart`, { scheduled_at: at.toISOString() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.task).toMatchObject({ type: 'restart_instance', instance_id: target });
    const listed = (await call('GET', `/v1/databases/${id}/tasks`)).body.tasks;
    expect(listed.some((x: any) => x.task_id === r.body.task.task_id)).toBe(true);
    expect((await finished(r.body.task.task_id)).status).toBe('completed');
    // When the restart began is the scheduler's doing (± 2 s); Postgres's own stop and start come after it.
    const entries = (await call('GET', `/v1/databases/${id}/tasks/${r.body.task.task_id}/log`)).body.entries as { timestamp: string; message: string }[];
    const began = Date.parse(entries.find((e) => e.message.startsWith('restarting Postgres'))!.timestamp);
    const restartedAt = (await startTime('host-2', 'n2')).getTime();
    console.log(`scheduled restart: began ${began - at.getTime()} ms after the scheduled time, postmaster started ${restartedAt - at.getTime()} ms after it`);
    expect(Math.abs(began - at.getTime())).toBeLessThan(2000);
    expect(restartedAt).toBeGreaterThan(began - 1000); // Postgres did restart then (the log's timestamps have a 1 s grain)

    const before = await startTime('host-2', 'n2');
    const at2 = Date.now() + 20_000;
    const again = await call('POST', `/v1/databases/${id}/instances/${target}/restart`, { scheduled_at: new Date(at2).toISOString() });
    expect(again.status, JSON.stringify(again.body)).toBe(200); // the finished restart left the instance available
    // A restart waiting for its time holds no lock: another change of the database is accepted meanwhile.
    const now = await call('POST', `/v1/databases/${id}/instances/${instance('n2', 'host-3')}/restart`);
    expect(now.status, JSON.stringify(now.body)).toBe(200);
    expect((await finished(now.body.task.task_id)).status).toBe('completed');
    const cancel = await call('GET', `/v1/databases/${id}/tasks/${again.body.task.task_id}/cancel`);
    expect(cancel.body.status).toBe('canceling');
    expect((await finished(again.body.task.task_id)).status).toBe('canceled');
    await new Promise((res) => setTimeout(res, Math.max(0, at2 + 3000 - Date.now())));
    expect((await startTime('host-2', 'n2')).getTime()).toBe(before.getTime());
  });

  it('stop makes an instance stopped and its port refuse connections; start brings it back with its data', async () => {
    const target = instance('n2', 'host-3');
    const stop = await call('POST', `/v1/databases/${id}/instances/${target}/stop-instance`);
    expect(stop.body.task).toMatchObject({ type: 'stop_instance', instance_id: target, host_id: 'host-3' });
    expect((await finished(stop.body.task.task_id)).status).toBe('completed');
    const view = await database();
    expect(view.instances.find((i: any) => i.id === target).state).toBe('stopped');
    expect(view.state).toBe('degraded');
    await expect(sql('host-3', 'n2', 'SELECT 1')).rejects.toThrow();
    expect((await call('POST', `/v1/databases/${id}/instances/${target}/stop-instance`)).status).toBe(400); // not stoppable
    await new Promise((res) => setTimeout(res, 25_000)); // it was n2's primary, so another member leads now: a dead container would be restarted by the monitor within seconds
    expect((await database()).instances.find((i: any) => i.id === target).state).toBe('stopped');

    const start = await call('POST', `/v1/databases/${id}/instances/${target}/start-instance`);
    expect((await finished(start.body.task.task_id)).status).toBe('completed');
    await waitFor('available again', async () => (await database()).instances.find((i: any) => i.id === target).state === 'available', 60_000);
    const rows = await waitFor('its data', async () => (await sql('host-3', 'n2', "SELECT count(*)::int AS n FROM t WHERE id = 'after-failover'"))[0].n === 1, 30_000);
    expect(rows).toBe(true);
  });
});

describe('replicas follow host_ids', () => {
  const update = async (hostIds: string[]) => {
    const next = { ...spec, nodes: [spec.nodes[0]!, { ...spec.nodes[1]!, host_ids: hostIds }] };
    const r = await call('POST', `/v1/databases/${id}`, { spec: next });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await finished(r.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
  };
  const startedAt = async (host: string) => (await sql(host, 'n2', 'SELECT pg_postmaster_start_time()::text AS t'))[0].t as string;

  it('a host added to a node gets a replica and a host removed loses it, without touching the primary', async () => {
    const primary = (await primaryOf('n2'))!;
    const before = await startedAt(primary);
    await update([...hostsOf.n2, 'host-1']);
    const added = (await database()).instances.find((i: any) => i.id === instance('n2', 'host-1'));
    expect(added).toMatchObject({ host_id: 'host-1', postgres: { role: 'replica' }, connection_info: { addresses: ['127.0.0.1'], port: portOf('n2') } });
    expect((await sql('host-1', 'n2', "SELECT count(*)::int AS n FROM t WHERE id = 'after-failover'"))[0].n).toBe(1);
    expect(await primaryOf('n2')).toBe(primary);
    expect(await startedAt(primary)).toBe(before);

    await update([...hostsOf.n2]);
    expect((await database()).instances.some((i: any) => i.id === instance('n2', 'host-1'))).toBe(false);
    await expect(docker.getContainer(instance('n2', 'host-1')).inspect()).rejects.toThrow();
    expect(await startedAt(primary)).toBe(before);
  });

  it('removing the primary\'s host moves the primary role first: nothing is lost and n2 still replicates', async () => {
    const primary = (await primaryOf('n2'))!;
    const stays = hostsOf.n2.find((h) => h !== primary)!;
    await sql(primary, 'n2', "INSERT INTO t VALUES ('before-move', 'n2', 'x')");
    await update([stays]);
    expect(await primaryOf('n2')).toBe(stays);
    expect((await sql(stays, 'n2', "SELECT count(*)::int AS n FROM t WHERE id = 'before-move'"))[0].n).toBe(1);
    await sql(stays, 'n2', "INSERT INTO t VALUES ('after-move', 'n2', 'x')");
    await waitFor('n2\'s row on n1', async () => (await sql((await primaryOf('n1'))!, 'n1', "SELECT 1 FROM t WHERE id = 'after-move'")).length === 1, 30_000);
  });
});
