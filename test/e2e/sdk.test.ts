// The SDK, the CLI and the metrics against the real control plane (API over HTTP, Temporal, Docker, Postgres):
// a database created over REST and awaited with waitForTask while curl follows its log; a node added through the
// Temporal trigger; the same refusals both ways; `pgcp status` and a real Prometheus watching a subscription's lag
// rise while its subscriber is stopped and drop when it is back; `pgcp db delete --wait` at the end.
import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createParser } from 'eventsource-parser';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DatabaseStatusSchema } from '../../api/schemas/status.js';
import { defaultRepositoryRoot, projectRoot } from '../../platform/config.js';
import { createPgcpClient, isPgcpError, PgcpApiError, type DatabaseStatus, type PgcpClient, type TaskLogEntry } from '../../sdk/index.js';
import { createTemporalTrigger, type TemporalTrigger } from '../../sdk/temporal.js';
import { ids } from '../../workflows/model/ids.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { serveApp } from '../support/http.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const run = promisify(execFile);
const id = `sdk-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(3);
const user = { username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const basePath = path.join(defaultRepositoryRoot, 'test', id); // inside PGCP_REPOSITORY_ROOTS' default
const n1Backups = { repositories: [{ type: 'posix' as const, base_path: basePath }] };
const twoNodes = { database_name: 'app', port, database_users: [user], nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], backup_config: n1Backups }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }] };
const threeNodes = { ...twoNodes, nodes: [...twoNodes.nodes, { name: 'n3', host_ids: ['host-1'], port: port + 2 }] };

let s: ApiStack;
let http: Awaited<ReturnType<typeof serveApp>>;
let client: PgcpClient;
let trigger: TemporalTrigger;
let prom: RunningPrometheus;
const tasks: Record<string, string> = {};

beforeAll(async () => {
  const workerMetrics = `127.0.0.1:${await freePort()}`;
  s = await startApiStack(['host-1', 'host-2'], { metricsAddress: workerMetrics });
  http = await serveApp(s.app);
  client = createPgcpClient({ baseUrl: http.url });
  trigger = createTemporalTrigger({ temporal: s.workers.client, store: s.db.store });
  prom = await startPrometheus({ 'pgcp-api': [new URL(http.url).host], 'pgcp-worker': [workerMetrics] });
  await waitFor('host-2 joined', async () => (await client.api.GET('/v1/hosts/{host_id}', { params: { path: { host_id: 'host-2' } } })).data?.status.state === 'healthy', 30_000);
});
afterAll(async () => {
  await prom?.stop();
  await trigger?.close();
  await http?.close();
  await s?.stop();
  await rm(basePath, { recursive: true, force: true });
});

/** The CLI as a user runs it (package.json bin), against this test's API. */
async function pgcp(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(projectRoot, 'sdk', 'bin', 'pgcp.mjs'), ['--api', http.url, ...args], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** curl -N on the followed log: each SSE event with the time it arrived, and when curl ended. */
function curlFollow(url: string) {
  const events: { event?: string; id?: string; data: string; at: number }[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, id: e.id, data: e.data, at: Date.now() }) });
  const proc = spawn('curl', ['-sN', url]);
  proc.stdout.on('data', (d: Buffer) => parser.feed(d.toString()));
  const done = new Promise<number>((resolve) => proc.once('exit', () => resolve(Date.now())));
  return { events, done };
}

async function refusedOverRest(method: 'POST', p: string, body: unknown): Promise<{ name: string; message: string }> {
  const res = await fetch(`${http.url}${p}`, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(400);
  return await res.json() as { name: string; message: string };
}
async function refusedByTrigger(fn: () => Promise<unknown>): Promise<PgcpApiError> {
  const err = await fn().then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PgcpApiError);
  return err as PgcpApiError;
}

it('a bad spec through the Temporal trigger is refused with the same error name and message as over REST', async () => {
  const unknownHost = { id: `${id}-x`, spec: { ...twoNodes, nodes: [{ name: 'n1', host_ids: ['host-9'] }] } };
  const badPattern = { id: `${id}-y`, spec: { ...twoNodes, nodes: [{ name: 'x', host_ids: ['host-1'] }] } };
  for (const req of [unknownHost, badPattern]) {
    const rest = await refusedOverRest('POST', '/v1/databases', req);
    const viaTrigger = await refusedByTrigger(() => trigger.createDatabase(req as never));
    expect([viaTrigger.errorName, viaTrigger.message, viaTrigger.status]).toEqual([rest.name, rest.message, 400]);
  }
  expect((await refusedByTrigger(() => trigger.createDatabase(unknownHost as never))).errorName).toBe('invalid_input');
  expect((await refusedByTrigger(() => trigger.createDatabase(badPattern as never))).errorName).toBe('invalid_pattern');
  // Nothing was stored or started by either.
  expect(isPgcpError(await client.getDatabase(`${id}-x`).catch((e: unknown) => e), 'not_found')).toBe(true);
});

it('creates a database over REST and waits with waitForTask while curl -N prints its log as it happens', async () => {
  const created = await client.createDatabase({ id, spec: twoNodes });
  tasks.create = created.task.task_id;
  const curl = curlFollow(`${http.url}/v1/databases/${id}/tasks/${created.task.task_id}/log?follow=true`);
  const seen: { entry: TaskLogEntry; id: string }[] = [];
  const task = await client.waitForTask(id, created.task.task_id, { onEntry: (entry, entryId) => seen.push({ entry, id: entryId }) });
  expect(task).toMatchObject({ task_id: created.task.task_id, type: 'create', status: 'completed', database_id: id });
  const curlEnded = await curl.done;

  const polled = await client.getTaskLog(id, created.task.task_id);
  const streamed = curl.events.filter((e) => e.event === 'entry');
  // Identical to polling: the same entries, in order, and the stream's ids are the ids paging uses.
  expect(streamed.map((e) => JSON.parse(e.data))).toEqual(polled.entries);
  expect(seen.map((e) => e.entry)).toEqual(polled.entries);
  expect(streamed.at(-1)?.id).toBe(polled.last_entry_id);
  const k = Math.floor(streamed.length / 2);
  expect((await client.getTaskLog(id, created.task.task_id, { after_entry_id: streamed[k]!.id })).entries).toEqual(polled.entries.slice(k + 1));
  // As it happens: the first entries reached curl long before the task ended, and the stream ended with the task.
  expect(streamed[0]!.at).toBeLessThan(Date.parse(task.completed_at!) - 5_000);
  expect(new Set(streamed.map((e) => Math.floor(e.at / 1000))).size).toBeGreaterThan(5);
  expect(curl.events.at(-1)).toMatchObject({ event: 'end' });
  expect(JSON.parse(curl.events.at(-1)!.data)).toEqual({ task_status: 'completed', last_entry_id: polled.last_entry_id });
  expect(curlEnded - Date.parse(task.completed_at!)).toBeLessThan(10_000);
});

it('adds a node through the Temporal trigger: the same workflow kind, search attributes and task shape as REST', async () => {
  const r = await trigger.updateDatabase(id, { spec: threeNodes });
  if ('plan' in r) throw new Error('not a dry run');
  tasks.update = r.task.task_id;
  expect(r.task.task_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // UUIDv7, as the API's
  expect(r.database.state).toBe('modifying');
  const done = await client.waitForTask(id, r.task.task_id);
  expect(done.status).toBe('completed');

  const listed = await client.listTasks(id);
  const create = listed.find((t) => t.task_id === tasks.create)!;
  const update = listed.find((t) => t.task_id === tasks.update)!;
  expect(update).toMatchObject({ scope: 'database', entity_id: id, database_id: id, type: 'update', status: 'completed' });
  expect(Object.keys(update).sort()).toEqual(Object.keys(create).sort());
  const describe = (taskId: string) => s.workers.client.workflow.getHandle(taskId).describe();
  const [c, u] = await Promise.all([describe(tasks.create!), describe(tasks.update!)]);
  expect([c.type, u.type]).toEqual(['createDatabase', 'updateDatabase']);
  expect([c.taskQueue, u.taskQueue]).toEqual(['control-plane', 'control-plane']);
  const keys = (d: typeof c) => d.typedSearchAttributes.getAll().map((p) => p.key.name).sort();
  expect(keys(u)).toEqual(keys(c));

  // A spec the merge refuses: the same answer through the trigger as over REST.
  const renamed = { spec: { ...threeNodes, database_name: 'other' } };
  const rest = await refusedOverRest('POST', `/v1/databases/${id}`, renamed);
  const viaTrigger = await refusedByTrigger(() => trigger.updateDatabase(id, renamed));
  expect([viaTrigger.errorName, viaTrigger.message]).toEqual([rest.name, rest.message]);
});

it('a backup of n1 shows in the status report, the CLI and the metrics: last successful backup, its age, the earliest recovery point', async () => {
  const started = Date.now();
  const r = await client.api.POST('/v1/databases/{database_id}/nodes/{node_name}/backups', { params: { path: { database_id: id, node_name: 'n1' } }, body: { type: 'full' } });
  await client.waitForTask(id, r.data!.task.task_id);
  const n1 = await waitFor('n1\'s backup in the status report', async () => {
    const n = (await client.getStatus(id)).nodes.find((x) => x.name === 'n1');
    return n?.backup?.last_success_at ? n : null;
  }, 90_000, 1000);
  expect(Date.parse(n1.backup!.last_success_at!)).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
  expect(n1.backup).toMatchObject({ backup_count: 1, last_type: 'full', earliest_recovery_point: n1.backup!.last_success_at });
  expect(n1.backup!.last_success_age_seconds).toBeLessThan(120);
  expect((await client.getStatus(id)).nodes.find((x) => x.name === 'n2')?.backup).toBeUndefined(); // no backup_config
  expect(await pgcp('status', id)).toMatch(new RegExp(`Backups\\nNODE.*\\nn1\\s+1\\s+${n1.backup!.last_success_at!.replace(/\./g, '\\.')}`));
  await waitFor('Prometheus has the backup age', async () => (await prom.query(`pgcp_backup_last_success_age_seconds{database_id="${id}",node="n1"}`)).length === 1, 30_000);
});

const subLag = (st: DatabaseStatus, name: string) => st.subscriptions.find((x) => x.name === name)!;
const promLag = async () => (await prom.query(`pgcp_subscription_lag_bytes{database_id="${id}",subscription="sub_n2n1"}`))[0]?.value;

it('pgcp status shows every subscription\'s lag; Prometheus sees it rise while the peer is stopped, and both see it drop when it is back', async () => {
  const names = ['n1', 'n2', 'n3'].flatMap((a) => ['n1', 'n2', 'n3'].filter((b) => b !== a).map((b) => ids.subscription(a, b)));
  const ready = await waitFor('every subscription replicating with its lag measured', async () => {
    const st = await client.getStatus(id);
    return st.subscriptions.length === 6 && st.subscriptions.every((x) => x.status === 'replicating' && x.lag_bytes !== null && x.lag_seconds !== null) ? st : null;
  }, 120_000, 1000);
  expect(ready.subscriptions.map((x) => x.name).sort()).toEqual(names.sort());
  expect(ready.replicas).toEqual([expect.objectContaining({ instance_id: ids.instance(id, 'n1', 'host-2'), state: 'streaming', lag_bytes: expect.any(Number), lag_seconds: expect.any(Number) })]);

  const human = await pgcp('status', id);
  for (const n of names) expect(human).toMatch(new RegExp(`${n}\\s+n\\d\\s+n\\d\\s+replicating\\s+yes\\s+\\d`));
  expect(human).toMatch(/Replicas\n.*\n.*streaming/);
  // --json is the SDK's DatabaseStatus: the strict schema the OpenAPI document (and so the SDK's types) come from.
  const json = JSON.parse(await pgcp('status', id, '--json'));
  expect(DatabaseStatusSchema.parse(json)).toEqual(json);
  expect(json.database_id).toBe(id);

  await waitFor('Prometheus has the lag series', async () => (await promLag()) !== undefined, 30_000);
  expect((await prom.query('up{job="pgcp-api"}'))[0]?.value).toBe(1);
  expect((await prom.query('count({job="pgcp-worker", __name__=~"temporal_.+"})'))[0]?.value).toBeGreaterThan(5);
  expect((await prom.query('sum(pgcp_tasks{type="create",status="completed"})'))[0]?.value).toBeGreaterThanOrEqual(1);

  // n2 stops: n1 keeps taking writes, so n1's slot for n2's subscription falls behind.
  const n2 = ids.instance(id, 'n2', 'host-2');
  const stop = await client.api.POST('/v1/databases/{database_id}/instances/{instance_id}/stop-instance', { params: { path: { database_id: id, instance_id: n2 } } });
  await client.waitForTask(id, stop.data!.task.task_id);
  const n1 = new pg.Client({ host: '127.0.0.1', port, user: 'admin', password: 'password', database: 'app' });
  await n1.connect();
  try {
    await n1.query('CREATE TABLE IF NOT EXISTS lag_probe (id serial PRIMARY KEY, pad text)');
    const write = () => n1.query("INSERT INTO lag_probe (pad) SELECT repeat('x', 2000) FROM generate_series(1, 200)");
    await write();
    const first = await waitFor('sub_n2n1 behind in the status report', async () => {
      const x = subLag(await client.getStatus(id), 'sub_n2n1');
      return x.slot_active === false && (x.lag_bytes ?? 0) > 100_000 ? x : null;
    }, 60_000, 1000);
    const promFirst = await waitFor('Prometheus sees the lag', async () => ((await promLag()) ?? 0) >= first.lag_bytes! ? promLag() : null, 30_000);
    await write();
    const second = await waitFor('the lag grows', async () => {
      const x = subLag(await client.getStatus(id), 'sub_n2n1');
      return (x.lag_bytes ?? 0) > first.lag_bytes! && (x.lag_seconds ?? 0) > first.lag_seconds! ? x : null;
    }, 60_000, 1000);
    const promPeak = await waitFor('Prometheus sees it rise', async () => {
      const v = await promLag();
      return v !== undefined && v > promFirst! ? v : null;
    }, 30_000);
    expect(promPeak).toBeGreaterThanOrEqual(second.lag_bytes!);
    expect((await prom.query(`max_over_time(pgcp_subscription_lag_seconds{database_id="${id}",subscription="sub_n2n1"}[5m])`))[0]?.value).toBeGreaterThan(0);
    expect(subLag(await client.getStatus(id), 'sub_n3n1').lag_bytes).toBeLessThan(first.lag_bytes!); // n3 keeps up
  } finally {
    await n1.end();
  }

  // n2 is back: it catches up, and the lag drops in the report, the CLI and Prometheus.
  const start = await client.api.POST('/v1/databases/{database_id}/instances/{instance_id}/start-instance', { params: { path: { database_id: id, instance_id: n2 } } });
  await client.waitForTask(id, start.data!.task.task_id);
  const back = await waitFor('sub_n2n1 caught up', async () => {
    const x = subLag(await client.getStatus(id), 'sub_n2n1');
    return x.slot_active === true && x.lag_bytes !== null && x.lag_bytes < 100_000 ? x : null;
  }, 120_000, 1000);
  expect(back.status).toBe('replicating');
  const after = JSON.parse(await pgcp('status', id, '--json')) as DatabaseStatus;
  expect(subLag(after, 'sub_n2n1').lag_bytes).toBeLessThan(100_000);
  await waitFor('Prometheus sees it drop', async () => ((await promLag()) ?? Infinity) < 100_000, 30_000);
});

it('the CLI follows a finished task\'s log and deletes the database, showing progress with --wait', async () => {
  const followed = await pgcp('task', 'log', tasks.update!, '--follow');
  const polled = await client.getTaskLog(id, tasks.update!);
  expect(followed.trim().split('\n').slice(0, -1)).toEqual(polled.entries.map((e) => `${e.timestamp}${typeof e.fields?.host_id === 'string' ? ` [${e.fields.host_id}]` : ''} ${e.message}`));
  expect(followed.trim().split('\n').at(-1)).toBe('(task completed)');

  const out = await pgcp('db', 'delete', id, '--wait');
  const lines = out.trim().split('\n');
  expect(lines[0]).toMatch(/^task \S+ \(delete\) pending$/);
  expect(lines.length).toBeGreaterThan(5); // the task log, entry by entry
  expect(lines.at(-1)).toMatch(/^task \S+ \(delete\) completed$/);
  expect(isPgcpError(await client.getDatabase(id).catch((e: unknown) => e), 'not_found')).toBe(true);
});
