// The join exchange in process: a joining server's API (api/join-app.ts) whose outbound calls reach an initialized
// server's app; the internal join-options endpoint's refusals; and DELETE /v1/hosts/{id}'s refusals, which all come
// before anything changes (the forced removal itself runs in test/e2e/join.test.ts).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJoinApp } from '../../api/join-app.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { membershipFile, type Membership } from '../../platform/membership.js';
import { insertDatabase, newDatabaseSecrets, upsertInstance } from '../../store/databases.js';
import { upsertHost } from '../../store/hosts.js';
import { getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let token = '';
const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-join-'));
const version = { version: 'v0.0.0-test', revision: 'test', revision_time: '2026-01-01T00:00:00Z', arch: 'amd64' };

beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => {
  await t.db.drop();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (app: { request: TestApp['app']['request'] }, url: string, body: unknown) => {
  const res = await app.request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
const joinRequest = (tok: string, hostId = 'host-2') => ({ token: tok, host_id: hostId, addresses: ['10.0.0.12'], embedded_etcd_enabled: false });
const wrongToken = `PGEDGE-${'0'.repeat(64)}-${'0'.repeat(32)}`;

/** A joining server (host-2) whose calls to http://host-1:3000 reach the test app. */
function joiningServer(dataDir: string, joined: Membership[]) {
  const config = loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_HOST_ADDRESS: '10.0.0.12', PGCP_JOINS_CLUSTER: 'true', PGCP_DATA_DIR: dataDir });
  return createJoinApp({
    config, log: createLogger('silent', 'join-test'), version,
    onJoined: async (m) => { joined.push(m); },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      if (url.host !== 'host-1:3000') throw new TypeError('fetch failed');
      return t.app.request(url.pathname, init);
    }) as typeof fetch,
  });
}

describe('join-options (server to server)', () => {
  it('is 409 before the cluster exists', async () => {
    expect((await post(t.app, '/v1/internal/cluster/join-options', joinRequest(wrongToken))).status).toBe(409);
    token = ((await getJson(t.app, '/v1/cluster/init')).body as { token: string }).token;
  });

  it('refuses a wrong token with 401 invalid_join_token, a malformed one with 400, a host id in use with 400', async () => {
    expect(await post(t.app, '/v1/internal/cluster/join-options', joinRequest(wrongToken)))
      .toEqual({ status: 401, body: { name: 'invalid_join_token', message: 'the given join token is invalid' } });
    expect((await post(t.app, '/v1/internal/cluster/join-options', joinRequest('PGEDGE-short'))).body).toMatchObject({ name: 'invalid_pattern' });
    expect(await post(t.app, '/v1/internal/cluster/join-options', joinRequest(token, 'host-1')))
      .toEqual({ status: 400, body: { name: 'invalid_input', message: 'a host with ID host-1 already exists in the cluster' } });
  });

  it('gives a new host the services it needs and a slot for its credentials', async () => {
    const r = await post(t.app, '/v1/internal/cluster/join-options', joinRequest(token));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      cluster_id: expect.any(String),
      leader: { name: 'host-1', server_url: 'http://127.0.0.1:3000' },
      temporal: { address: '127.0.0.1:7233', namespace: 'pgcp' },
      store: { url: t.deps.config.storeUrl },
      // etcd serves TLS: the joining host checks its certificate against the cluster's CA
      etcd: { client_urls: [t.deps.config.etcdUrl], container_hosts: t.deps.config.etcdHostsForContainers, ca_cert: expect.stringContaining('BEGIN CERTIFICATE') },
      credentials: {},
    });
  });

  it('is not in the OpenAPI document; the three membership operations are', async () => {
    const doc = (await getJson(t.app, '/v1/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
    expect(doc.paths['/v1/internal/cluster/join-options']).toBeUndefined();
    expect(Object.keys(doc.paths['/v1/cluster/join']!.post!.responses)).toEqual(expect.arrayContaining(['204', '401', '409']));
    expect(doc.paths['/v1/hosts/{host_id}']!.delete!.operationId).toBe('remove-host');
    expect(doc.paths['/v1/hosts/{host_id}/tasks/{task_id}']!.get!.operationId).toBe('get-host-task');
  });

  it('POST /v1/cluster/join on a member is 409 cluster_already_initialized', async () => {
    expect((await post(t.app, '/v1/cluster/join', { token, server_urls: ['http://127.0.0.1:3000'] })).body.name).toBe('cluster_already_initialized');
  });
});

describe('a joining server', () => {
  it('answers only the join until it has joined', async () => {
    const app = joiningServer(path.join(dir, 'a'), []);
    expect((await getJson(app, '/v1/version')).status).toBe(200);
    expect((await getJson(app, '/v1/hosts')).body).toEqual({ name: 'cluster_not_initialized', message: 'this operation is invalid on an uninitialized cluster' });
    expect((await getJson(app, '/v1/cluster/init')).body).toMatchObject({ name: 'operation_not_supported' });
    expect((await post(app, '/v1/cluster/join', {})).body).toMatchObject({ name: 'missing_field' });
  });

  it('passes on the cluster\'s refusal of a wrong token and keeps nothing; names servers it cannot reach', async () => {
    const dataDir = path.join(dir, 'b');
    const joined: Membership[] = [];
    const app = joiningServer(dataDir, joined);
    expect(await post(app, '/v1/cluster/join', { token: wrongToken, server_urls: ['http://host-1:3000'] }))
      .toEqual({ status: 401, body: { name: 'invalid_join_token', message: 'the given join token is invalid' } });
    expect(await post(app, '/v1/cluster/join', { token, server_urls: ['http://nowhere:3000'] }))
      .toEqual({ status: 500, body: { name: 'server_error', message: 'failed to reach any of the given servers: http://nowhere:3000' } });
    expect(() => statSync(membershipFile(dataDir))).toThrow();
    expect(joined).toEqual([]);
  });

  it('joins with the token (the first server that answers), keeps what it learned owner-only, and refuses a second join', async () => {
    const dataDir = path.join(dir, 'c');
    const joined: Membership[] = [];
    const app = joiningServer(dataDir, joined);
    const r = await post(app, '/v1/cluster/join', { token, server_urls: ['http://nowhere:3000', 'http://host-1:3000'] });
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    expect(joined).toEqual([expect.objectContaining({ host_id: 'host-2', store: { url: t.deps.config.storeUrl }, credentials: {} })]);
    expect(statSync(membershipFile(dataDir)).mode & 0o777).toBe(0o600);
    expect((await post(app, '/v1/cluster/join', { token, server_urls: ['http://host-1:3000'] })).body.name).toBe('cluster_already_initialized');
  });
});

describe('DELETE /v1/hosts/{host_id} refusals', () => {
  beforeAll(async () => {
    await upsertHost(t.deps.store, { id: 'host-2', address: '10.0.0.12', dataDir: '/d', cpus: 1, memoryBytes: 1 });
    await insertDatabase(t.deps.store, {
      id: 'shop', tenantId: null, state: 'creating', secrets: newDatabaseSecrets(),
      spec: { database_name: 'shop', nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }] } as never,
    });
    await upsertInstance(t.deps.store, { id: 'shop-n1-x', databaseId: 'shop', nodeName: 'n1', hostId: 'host-2', state: 'creating' });
  });
  const del = async (url: string) => {
    const res = await t.app.request(url, { method: 'DELETE' });
    return { status: res.status, body: await res.json() };
  };

  it('refuses this server\'s own host, an unknown host, and a host with instances unless forced', async () => {
    expect(await del('/v1/hosts/host-1?force=true')).toEqual({ status: 400, body: { name: 'invalid_input', message: 'a host cannot remove itself from the cluster' } });
    expect(await del('/v1/hosts/host-9')).toEqual({ status: 404, body: { name: 'not_found', message: 'no host found with the given ID' } });
    expect(await del('/v1/hosts/host-2')).toEqual({ status: 400, body: { name: 'invalid_input', message: 'cannot remove host with running instances' } });
    expect((await del('/v1/hosts/host-2?force=maybe')).status).toBe(400);
  });

  it('forced, refuses while a database there cannot change, and changes nothing', async () => {
    expect(await del('/v1/hosts/host-2?force=true'))
      .toEqual({ status: 409, body: { name: 'database_not_modifiable', message: 'database shop: the target database is not modifiable in its current state' } });
    const db = (await getJson(t.app, '/v1/databases/shop')).body as { state: string; spec: { nodes: { host_ids: string[] }[] } };
    expect(db.state).toBe('creating');
    expect(db.spec.nodes[0]!.host_ids).toEqual(['host-1', 'host-2']);
    expect(((await getJson(t.app, '/v1/hosts')).body as { hosts: { id: string }[] }).hosts.map((h) => h.id)).toEqual(['host-1', 'host-2']);
  });
});
