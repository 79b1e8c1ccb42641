// /metrics: the API's request counts and latencies by route pattern (never by raw path), and the state gauges read
// at scrape time from what the monitors reported. The shipped alert rules pass promtool and fire on these series.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectRoot } from '../../platform/config.js';
import { insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { upsertInstance, writeInstanceStatus } from '../../store/instances.js';
import { createTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t?.db.drop(); });

const scrape = async () => {
  const res = await t.app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};
/** The value of one series, by its exact label set as prom-client prints it. */
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('counts requests by method, route pattern and status, and times them', async () => {
  await t.app.request('/v1/version');
  await t.app.request('/v1/version');
  await t.app.request('/v1/databases/some-db'); // 409: the cluster is not initialized here
  await t.app.request('/no/such/thing/12345');
  const text = await scrape();
  expect(value(text, 'pgcp_api_requests_total{method="GET",route="/v1/version",status="200"}')).toBe(2);
  expect(value(text, 'pgcp_api_requests_total{method="GET",route="/v1/databases/:database_id",status="409"}')).toBe(1);
  expect(text).not.toContain('some-db');
  expect(text).not.toContain('12345');
  expect(value(text, 'pgcp_api_request_duration_seconds_count{method="GET",route="/v1/version"}')).toBe(2);
  expect(text).toContain('pgcp_api_process_resident_memory_bytes');
});

it('exports per instance role and state, subscription lag, replica lag, slots and backup age from the monitors\' reports', async () => {
  const spec = { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'] }] };
  await insertDatabase(t.db.store, { id: 'mdb', tenantId: null, spec: spec as never, state: 'available', secrets: newDatabaseSecrets() });
  for (const [id, node, host] of [['mdb-n1-a', 'n1', 'host-1'], ['mdb-n1-b', 'n1', 'host-2'], ['mdb-n2-a', 'n2', 'host-2']] as const) {
    await upsertInstance(t.db.store, { id, databaseId: 'mdb', nodeName: node, hostId: host, state: 'available' });
  }
  const lastBackup = new Date(Date.now() - 3_600_000).toISOString();
  await writeInstanceStatus(t.db.store, 'mdb-n1-a', {
    containerRunning: true, patroniState: 'running', role: 'primary',
    replication: { readOnly: 'off', version: '2.4.2', subscriptions: [{ provider_node: 'n2', name: 'sub_n1n2', status: 'replicating' }] },
    lag: {
      walLsn: '0/3000000',
      slots: [{ name: 'pgl_app_n1_sub_n2n1', type: 'logical', active: false, retainedBytes: 70000, lagBytes: 65536, lagSeconds: 12.5, subscription: 'sub_n2n1', subscriberNode: 'n2' }],
      replicas: [{ instanceId: 'mdb-n1-b', state: 'streaming', lagBytes: 128, lagSeconds: 0.25 }],
    },
    backup: { checkedAt: new Date().toISOString(), count: 1, lastSuccessAt: lastBackup, earliestRecoveryPoint: lastBackup },
  });
  await writeInstanceStatus(t.db.store, 'mdb-n1-b', { containerRunning: true, patroniState: 'streaming', role: 'replica' });
  await writeInstanceStatus(t.db.store, 'mdb-n2-a', { containerRunning: false });
  const text = await scrape();
  const sub = 'database_id="mdb",subscription="sub_n2n1",subscriber_node="n2",provider_node="n1"';
  expect(value(text, `pgcp_subscription_lag_bytes{${sub}}`)).toBe(65536);
  expect(value(text, `pgcp_subscription_lag_seconds{${sub}}`)).toBe(12.5);
  expect(value(text, `pgcp_subscription_up{${sub}}`)).toBe(0); // n2 reports nothing: it is down
  expect(value(text, 'pgcp_subscription_up{database_id="mdb",subscription="sub_n1n2",subscriber_node="n1",provider_node="n2"}')).toBe(1);
  expect(value(text, 'pgcp_replica_lag_bytes{database_id="mdb",node="n1",instance_id="mdb-n1-b",host_id="host-2"}')).toBe(128);
  expect(value(text, 'pgcp_instance_up{database_id="mdb",node="n2",instance_id="mdb-n2-a",host_id="host-2"}')).toBe(0);
  expect(value(text, 'pgcp_instance_info{database_id="mdb",node="n1",instance_id="mdb-n1-a",host_id="host-1",role="primary",state="available"}')).toBe(1);
  expect(value(text, 'pgcp_replication_slot_retained_bytes{database_id="mdb",node="n1",instance_id="mdb-n1-a",slot="pgl_app_n1_sub_n2n1",type="logical"}')).toBe(70000);
  expect(value(text, 'pgcp_backup_last_success_age_seconds{database_id="mdb",node="n1"}')).toBeGreaterThanOrEqual(3600);
  expect(value(text, 'pgcp_database_info{database_id="mdb",state="degraded"}')).toBe(1);
});

it('the shipped alert rules pass promtool, and fire on these series as the rule tests say', async () => {
  const dir = path.join(projectRoot, 'monitoring');
  const check = await run('promtool', ['check', 'rules', path.join(dir, 'alerts.yml')]);
  expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
  const test = await run('promtool', ['test', 'rules', path.join(dir, 'alerts.test.yml')]);
  expect(test.stdout).toContain('SUCCESS');
  await run('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
});
