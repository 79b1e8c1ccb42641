// Requests a browser can be made to send (issue 17, item 4): a Host the API does not answer to (DNS rebinding) is a
// 403 before any route runs; a mutating request that is not JSON is a 415 and starts nothing; a body-less POST with
// no Content-Type (curl -X POST …/stop-instance, the reference's walkthrough) still works, unless a browser sent it
// from another origin.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClient } from '../../platform/temporal.js';
import { loadConfig } from '../../platform/config.js';
import { insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { upsertInstance, writeInstanceStatus } from '../../store/instances.js';
import { writeHostStatus } from '../../store/hosts.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { fuzzTestNamespace } from '../support/global-setup.js';
import { testSecretKey } from '../support/secret-key.js';
import { waitFor } from '../support/wait.js';

let t: TestApp;
let temporal: Client;
const db = `guards-${Date.now().toString(36)}`;
const instance = `${db}-n1-abcdefgh`;
const stopPath = `/v1/databases/${db}/instances/${instance}/stop-instance`;
const started: string[] = [];

beforeAll(async () => {
  const stack = inject('stack');
  // tasks start in a namespace no worker polls: a started stop_instance is recorded, never run
  temporal = await connectClient(stack.temporalAddress, fuzzTestNamespace, { secretKey: testSecretKey() });
  t = await createTestApp({ temporal, config: loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_ETCD_URL: stack.etcdUrl, PGCP_API_ALLOWED_HOSTS: 'pgcp.internal' }) });
  expect((await t.app.request('/v1/cluster/init')).status).toBe(200);
  await writeHostStatus(t.deps.store, { hostId: 'host-1', components: { docker: { healthy: true, error: '' } }, details: {} });
  await insertDatabase(t.deps.store, {
    id: db, tenantId: null, state: 'available', secrets: newDatabaseSecrets(),
    spec: { database_name: 'app', postgres_version: '17.12', nodes: [{ name: 'n1', host_ids: ['host-1'], port: 21500 }] },
  });
  await upsertInstance(t.deps.store, { id: instance, databaseId: db, nodeName: 'n1', hostId: 'host-1', state: 'available' });
});

afterAll(async () => {
  for (const id of started) await temporal.workflow.getHandle(id).terminate('request-guards test').catch(() => undefined);
  await temporal?.connection.close();
  await t?.db.drop();
});

const send = async (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
  const res = await t.app.request(path, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as { name: string; message: string; task?: { task_id: string } } };
};
/** What the monitor would report of a running primary (the API reads the instance as available while it is fresh). */
const running = () => writeInstanceStatus(t.deps.store, instance, { containerRunning: true, patroniState: 'running', role: 'primary' });
const tasksOf = async () => {
  let n = 0;
  for await (const _ of temporal.workflow.list({ query: `EntityId = '${db}'` })) n++;
  return n;
};

describe('Host header', () => {
  it.each(['rebind.attacker.example', 'rebind.attacker.example:3000', 'localhost.attacker.example', '127.0.0.1.nip.io:3000'])('Host: %s is a 403 invalid_host, for reads and for the GETs with side effects', async (host) => {
    for (const path of ['/v1/version', '/v1/cluster/init', `/v1/databases/${db}`, `/v1/databases/${db}/tasks/00000000-0000-7000-8000-000000000000/cancel`, '/metrics']) {
      const r = await send(path, { headers: { host } });
      expect(r.status, `${host} ${path}`).toBe(403);
      if (path !== '/metrics') expect(r.body).toMatchObject({ name: 'invalid_host', message: expect.stringContaining(`Host header "${host}"`) });
    }
  });

  it.each(['localhost', 'localhost:3000', '127.0.0.1', '127.0.0.1:3000', '[::1]', '[::1]:3000', 'LOCALHOST:3000', 'pgcp.internal:3000'])('Host: %s is answered', async (host) => {
    expect((await send(`/v1/databases/${db}`, { headers: { host } })).status).toBe(200);
  });
});

describe('mutating requests are JSON or nothing', () => {
  it('a form post or text/plain post to stop-instance is a 415 and starts no task; no body and no Content-Type starts one', async () => {
    await running();
    for (const [type, body] of [['application/x-www-form-urlencoded', 'a=b'], ['text/plain', '{}'], ['multipart/form-data; boundary=x', '--x--'], ['application/x-www-form-urlencoded', '']]) {
      const r = await send(stopPath, { method: 'POST', body, headers: { 'content-type': type! } });
      expect(r.status, type).toBe(415);
      expect(r.body).toMatchObject({ name: 'decode_payload', message: expect.stringContaining('Content-Type: application/json') });
    }
    // a body without any Content-Type (fetch with a Blob) is refused too
    expect((await send(stopPath, { method: 'POST', body: new Blob(['a=b']) })).status).toBe(415);
    // what a browser sends cross-site without a preflight when there is no body: refused by its Origin
    const cross = await send(stopPath, { method: 'POST', headers: { origin: 'https://attacker.example' } });
    expect(cross).toMatchObject({ status: 403, body: { name: 'cross_origin_request' } });
    expect((await send(stopPath, { method: 'POST', headers: { origin: 'null' } })).status).toBe(403);
    // curl -X POST …/stop-instance: no body, no Content-Type, no Origin — the reference's way, accepted
    const ok = await send(stopPath, { method: 'POST' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    started.push(ok.body.task!.task_id);
    // exactly that one task exists for the database: the refused requests started nothing
    await waitFor('the accepted stop_instance task is listed', async () => (await tasksOf()) >= 1, 20_000);
    expect(await tasksOf()).toBe(1);
  });

  it('application/json (with parameters) is accepted on a body-less operation, and the same origin may post', async () => {
    await running();
    const r = await send(`/v1/databases/${db}/instances/${instance}/start-instance`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', origin: 'http://localhost', host: 'localhost' } });
    // reached the route: the instance is not stopped, so it is not startable (a 400 of the route, not a guard's 4xx)
    expect(r).toMatchObject({ status: 400, body: { name: 'invalid_input', message: expect.stringContaining('is not startable') } });
  });

  it('DELETE with a form type is a 415 and the database stays', async () => {
    expect((await send(`/v1/databases/${db}`, { method: 'DELETE', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
    expect((await send(`/v1/databases/${db}`)).status).toBe(200);
  });
});
