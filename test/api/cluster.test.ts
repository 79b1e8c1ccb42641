import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { beat } from '../../worker/heartbeat.js';
import { createLogger } from '../../platform/logger.js';
import { getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { stackEtcd } from '../support/etcd.js';
import { createEtcd } from '../../activities/etcd.js';

let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t.db.drop(); });

describe('before init', () => {
  it('GET / answers 204 with the OpenAPI Link header', async () => {
    const res = await t.app.request('/');
    expect(res.status).toBe(204);
    expect(res.headers.get('link')).toBe('</v1/openapi.json>; rel="service-desc"');
  });

  it('GET /v1/version works', async () => {
    const r = await getJson(t.app, '/v1/version');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: 'v0.0.0-test', revision: 'test', revision_time: '2026-01-01T00:00:00Z', arch: 'amd64' });
  });

  it.each(['/v1/hosts', '/v1/hosts/host-1', '/v1/cluster', '/v1/cluster/join-token'])('GET %s is 409 cluster_not_initialized', async (path) => {
    const r = await getJson(t.app, path);
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ name: 'cluster_not_initialized', message: 'this operation is invalid on an uninitialized cluster' });
    expect(r.headers.get('goa-error')).toBe('cluster_not_initialized');
  });

  it('an invalid cluster_id is a 400 naming the rule, and creates nothing', async () => {
    const r = await getJson(t.app, '/v1/cluster/init?cluster_id=Bad_ID');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ name: 'invalid_input', message: expect.stringContaining('cluster_id: valid IDs must be 1-36 characters long') });
    expect((await getJson(t.app, '/v1/cluster')).status).toBe(409);
  });

  it('a too long cluster_id is a Goa invalid_length error', async () => {
    const r = await getJson(t.app, `/v1/cluster/init?cluster_id=${'a'.repeat(37)}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ name: 'invalid_length', message: 'length of cluster_id must be lesser or equal than 36', fault: false });
  });
});

describe('init and after', () => {
  let token = '';

  it('GET /v1/cluster/init creates the cluster and returns a join token', async () => {
    const r = await getJson(t.app, '/v1/cluster/init?cluster_id=production');
    expect(r.status).toBe(200);
    const body = r.body as { token: string; server_urls: string[] };
    expect(body.token).toMatch(/^PGEDGE-[0-9a-f]{64}-[0-9a-f]{32}$/);
    expect(body.server_urls).toEqual(['http://127.0.0.1:3000']);
    token = body.token;
  });

  it('a second init is 409 cluster_already_initialized', async () => {
    const r = await getJson(t.app, '/v1/cluster/init');
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ name: 'cluster_already_initialized', message: 'this operation is invalid on an initialized cluster' });
  });

  it('the join token is stable', async () => {
    expect((await getJson(t.app, '/v1/cluster/join-token')).body).toEqual({ token, server_urls: ['http://127.0.0.1:3000'] });
  });

  it('the local host is registered; its status is unknown until its first heartbeat', async () => {
    const r = await getJson(t.app, '/v1/hosts');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ hosts: [{ id: 'host-1', ipv4_address: '127.0.0.1', status: { state: 'unknown', components: {} } }] });
  });

  it('after a heartbeat the host is healthy, with docker and etcd components checked for real', async () => {
    await beat({ store: t.deps.store, docker: createDocker(), hostId: 'host-1', etcd: stackEtcd(), log: createLogger('silent', 't') });
    const r = await getJson(t.app, '/v1/hosts/host-1');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: 'host-1',
      status: { state: 'healthy', components: { docker: { healthy: true, error: '' }, etcd: { healthy: true, error: '' } } },
    });
  });

  it('a dead etcd makes the host degraded and names the component', async () => {
    await beat({ store: t.deps.store, docker: createDocker(), hostId: 'host-1', etcd: createEtcd('http://127.0.0.1:1', null), log: createLogger('silent', 't') });
    const r = await getJson(t.app, '/v1/hosts/host-1');
    expect(r.body).toMatchObject({ status: { state: 'degraded', components: { etcd: { healthy: false } } } });
  });

  it('a stale heartbeat reads as unreachable', async () => {
    const later = await createTestAppOn(new Date(Date.now() + 60_000));
    const r = await getJson(later, '/v1/hosts/host-1');
    expect(r.body).toMatchObject({ status: { state: 'unreachable', components: {} } });
  });

  it('GET /v1/cluster lists the cluster and its hosts', async () => {
    const r = await getJson(t.app, '/v1/cluster');
    expect(r.body).toMatchObject({ id: 'production', status: { state: 'available' }, hosts: [{ id: 'host-1' }] });
  });

  it('an unknown host is 404', async () => {
    const r = await getJson(t.app, '/v1/hosts/host-9');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ name: 'not_found', message: 'no host found with the given ID' });
  });

  it('an unknown route is a 404 in the API error format', async () => {
    const r = await getJson(t.app, '/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ name: 'not_found' });
  });
});

describe('openapi', () => {
  it('is generated from the zod schemas and lists every route', async () => {
    const r = await getJson(t.app, '/v1/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.body as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/version', '/v1/cluster/init', '/v1/cluster/join-token', '/v1/cluster', '/v1/hosts', '/v1/hosts/{host_id}']));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Host', 'Cluster', 'ClusterJoinToken', 'VersionInfo']));
  });
});

async function createTestAppOn(now: Date) {
  const { createApp } = await import('../../api/app.js');
  return createApp({ ...t.deps, now: () => now });
}
