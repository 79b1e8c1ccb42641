// The join exchange in process: a joining server's API (api/join-app.ts) whose outbound calls reach an initialized
// server's app; the internal join-options endpoint's refusals; and DELETE /v1/hosts/{id}'s refusals, which all come
// before anything changes (the forced removal itself runs in test/e2e/join.test.ts).
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { authenticate, createEtcd } from '../../activities/etcd.js';
import { revokeHostCredentials } from '../../activities/control-plane/host-credentials.js';
import { listen } from '../../api/serve.js';
import { caFiles, ensureCa, issueCertificate } from '../../platform/pki.js';
import { tlsFetch } from '../../sdk/tls-fetch.js';
import { stackEtcd } from '../support/etcd.js';
import { testSecretKey } from '../support/secret-key.js';
import { createJoinApp } from '../../api/join-app.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { membershipFile, type Membership } from '../../platform/membership.js';
import { insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { upsertInstance } from '../../store/instances.js';
import { deleteHost, upsertHost } from '../../store/hosts.js';
import { getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let token = '';
const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-join-'));
const version = { version: 'v0.0.0-test', revision: 'test', revision_time: '2026-01-01T00:00:00Z', arch: 'amd64' };

beforeAll(async () => { t = await createTestApp({ secretKey: testSecretKey() }); });
afterAll(async () => {
  // roles belong to the whole Postgres server: every one this file issued goes
  await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-2');
  await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-3');
  await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-4');
  await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-5');
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

  it('keeps the token as a hash and sealed, never in clear', async () => {
    const { rows } = await t.deps.store.query<{ token: string | null; token_hash: string; token_sealed: unknown }>('SELECT token, token_hash, token_sealed FROM cluster');
    expect(rows).toEqual([{ token: null, token_hash: createHash('sha256').update(token).digest('hex'), token_sealed: expect.objectContaining({ sealed: 'aes-256-gcm' }) }]);
    expect(JSON.stringify(rows)).not.toContain(token.slice(7, 40));
  });

  it('gives a new host the services it needs and its own credentials: a store role, an etcd user, the key', async () => {
    const r = await post(t.app, '/v1/internal/cluster/join-options', joinRequest(token));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const storeUrl = new URL(r.body.store.url);
    expect(r.body).toEqual({
      cluster_id: expect.any(String),
      leader: { name: 'host-1', server_url: 'http://127.0.0.1:3000' },
      temporal: { address: '127.0.0.1:7233', namespace: 'pgcp' },
      store: { url: expect.any(String) },
      // etcd serves TLS: the joining host checks its certificate against the cluster's CA
      etcd: { client_urls: [t.deps.config.etcdUrl], container_hosts: t.deps.config.etcdHostsForContainers, ca_cert: expect.stringContaining('BEGIN CERTIFICATE') },
      credentials: { username: expect.stringMatching(/^pgcp-host-host-2-[0-9a-f]{8}$/), password: expect.any(String), secret_key: testSecretKey().toString('base64') },
    });
    // the store role: its own, not the issuer's; reads and writes the control plane's rows, creates nothing, sees no credentials
    const issuer = new URL(t.deps.config.storeUrl);
    expect(storeUrl.username).toMatch(/^pgcp_host_host_2_[0-9a-f]{8}$/);
    expect(storeUrl.username).not.toBe(issuer.username);
    expect(`${storeUrl.host}${storeUrl.pathname}`).toBe(`${new URL(t.db.url).host}${new URL(t.db.url).pathname}`);
    const host = new pg.Client({ connectionString: storeUrl.toString() });
    await host.connect();
    try {
      expect((await host.query('SELECT id FROM hosts ORDER BY id')).rows).toEqual([{ id: 'host-1' }]);
      await host.query("INSERT INTO host_status (host_id, updated_at, components) VALUES ('host-2', now(), '{}') ON CONFLICT (host_id) DO NOTHING");
      await expect(host.query('CREATE TABLE mine (x int)')).rejects.toThrow(/permission denied/);
      await expect(host.query('SELECT * FROM host_credentials')).rejects.toThrow(/permission denied/);
      await expect(host.query('UPDATE cluster SET id = id')).rejects.toThrow(/permission denied/);
      await expect(host.query('DELETE FROM revoked_certificates')).rejects.toThrow(/permission denied/);
    } finally {
      await host.end();
    }
    // the etcd user: Patroni's keys only, no user management
    const hostEtcd = createEtcd(t.deps.config.etcdUrl, { user: r.body.credentials.username, password: r.body.credentials.password }, t.deps.config.etcdCa);
    expect(hostEtcd.canManageUsers).toBe(false);
    await hostEtcd.call('/v3/kv/range', { key: Buffer.from('/pgcp/').toString('base64'), range_end: Buffer.from('/pgcp0').toString('base64'), count_only: true });
    await expect(hostEtcd.call('/v3/kv/range', { key: Buffer.from('/other').toString('base64') })).rejects.toThrow(/permission denied/);
    await expect(hostEtcd.call('/v3/auth/user/add', { name: 'intruder', password: 'x' })).rejects.toThrow(/permission denied/);
  });

  it('revoking a host\'s credentials (its removal) drops its store role and its etcd user', async () => {
    const r = await post(t.app, '/v1/internal/cluster/join-options', joinRequest(token, 'host-3'));
    expect(r.status).toBe(200);
    const storeUrl = r.body.store.url as string;
    const etcdUser = { user: r.body.credentials.username as string, password: r.body.credentials.password as string };
    const open = new pg.Client({ connectionString: storeUrl });
    open.on('error', () => undefined); // its session is ended below
    await open.connect();
    await authenticate(t.deps.config.etcdUrl, etcdUser, t.deps.config.etcdCa);
    expect(await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-3')).toBe(1);
    // its open session is ended, a new one refused; etcd refuses its user
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await open.end().catch(() => undefined);
    const again = new pg.Client({ connectionString: storeUrl });
    await expect(again.connect()).rejects.toThrow(/password authentication failed|does not exist/);
    await expect(authenticate(t.deps.config.etcdUrl, etcdUser, t.deps.config.etcdCa)).rejects.toThrow(/authentication failed/);
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

describe('rotation of a joined host\'s credentials', () => {
  it('issues a new generation on proof of the current password; the old one works until the new one is confirmed', async () => {
    const joined = await post(t.app, '/v1/internal/cluster/join-options', joinRequest(token, 'host-5'));
    expect(joined.status).toBe(200);
    await upsertHost(t.deps.store, { id: 'host-5', address: '10.0.0.15', dataDir: '/d', cpus: 1, memoryBytes: 1 });
    const old = { store: new URL(joined.body.store.url as string), etcd: { user: joined.body.credentials.username as string, password: joined.body.credentials.password as string } };
    const proof = (u: URL) => decodeURIComponent(u.password);
    const canLogin = async (u: URL) => {
      const c = new pg.Client({ connectionString: u.toString() });
      c.on('error', () => undefined);
      const ok = await c.connect().then(() => true, () => false);
      await c.end().catch(() => undefined);
      return ok;
    };
    const etcdOk = (e: { user: string; password: string }) => authenticate(t.deps.config.etcdUrl, e, t.deps.config.etcdCa).then(() => true, () => false);

    expect(await post(t.app, '/v1/internal/cluster/host-credentials', { host_id: 'host-5', store_password: 'wrong' }))
      .toEqual({ status: 401, body: { name: 'invalid_credentials', message: 'the host\'s credentials were not accepted' } });
    expect((await post(t.app, '/v1/internal/cluster/host-credentials', { host_id: 'host-9', store_password: proof(old.store) })).status).toBe(404);
    const rotated = await post(t.app, '/v1/internal/cluster/host-credentials', { host_id: 'host-5', store_password: proof(old.store) });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body).toEqual({ generation: 2, store: { url: expect.any(String) }, credentials: { username: expect.stringMatching(/^pgcp-host-host-5-/), password: expect.any(String) } });
    const next = { store: new URL(rotated.body.store.url as string), etcd: { user: rotated.body.credentials.username as string, password: rotated.body.credentials.password as string } };
    expect(next.store.username).not.toBe(old.store.username);
    // both generations work until the host confirms the new one
    expect([await canLogin(old.store), await canLogin(next.store), await etcdOk(old.etcd), await etcdOk(next.etcd)]).toEqual([true, true, true, true]);
    expect((await post(t.app, '/v1/internal/cluster/host-credentials/confirm', { host_id: 'host-5', store_password: proof(old.store), generation: 2 })).status).toBe(401);
    expect((await post(t.app, '/v1/internal/cluster/host-credentials/confirm', { host_id: 'host-5', store_password: proof(next.store), generation: 2 })).status).toBe(204);
    expect([await canLogin(old.store), await canLogin(next.store), await etcdOk(old.etcd), await etcdOk(next.etcd)]).toEqual([false, true, false, true]);
    await deleteHost(t.deps.store, 'host-5');
  });
});

describe('with mTLS on, a joining host\'s client certificate', () => {
  it('is signed by the cluster CA, opens the API, and is refused once revoked', async () => {
    const pki = path.join(dir, 'pki');
    ensureCa(pki);
    const server = issueCertificate(pki, { kind: 'server', name: 'api-server' });
    const stack = inject('stack');
    const config = loadConfig({
      PGCP_HOST_ID: 'host-1', PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile, PGCP_ETCD_CA_FILE: stack.etcdCaFile, PGCP_PKI_DIR: pki,
      PGCP_HTTP_CA_CERT: caFiles(pki).cert, PGCP_HTTP_SERVER_CERT: server.cert, PGCP_HTTP_SERVER_KEY: server.key,
    });
    const app = createApp({ ...t.deps, config });
    const r = await post(app, '/v1/internal/cluster/join-options', joinRequest(token, 'host-4'));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.leader.server_url).toBe('https://127.0.0.1:3000');
    const pem = (k: string) => Buffer.from(r.body.credentials[k] as string, 'base64').toString('utf8');
    expect(pem('ca_cert')).toBe(readFileSync(caFiles(pki).cert, 'utf8'));
    const cert = new X509Certificate(pem('client_cert'));
    expect(cert.subject).toBe('CN=pgcp-host.host-4');
    expect(cert.verify(new X509Certificate(readFileSync(caFiles(pki).cert)).publicKey)).toBe(true);
    expect(existsSync(path.join(pki, 'pgcp-host.host-4.key'))).toBe(false); // the host's key is not kept by the issuer
    const l = await listen(app, { port: 0, bind: '127.0.0.1', tls: config.api.tls });
    try {
      const f = tlsFetch({ ca: pem('ca_cert'), cert: pem('client_cert'), key: pem('client_key') });
      expect((await f(new Request(`${l.url}/v1/hosts`))).status).toBe(200);
      await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-4');
  await revokeHostCredentials({ store: t.deps.store, etcd: stackEtcd() }, 'host-5');
      await new Promise((res) => setTimeout(res, 2100)); // the API keeps an answer about a certificate 2 s
      const refused = await f(new Request(`${l.url}/v1/hosts`));
      expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 403, body: { name: 'certificate_revoked', message: 'this client certificate has been revoked' } });
    } finally {
      await l.close();
    }
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
    expect(joined).toEqual([expect.objectContaining({ host_id: 'host-2', credentials: { username: expect.any(String), password: expect.any(String) } })]);
    expect(joined[0]!.store.url).toMatch(/^postgres:\/\/pgcp_host_host_2_/);
    expect(statSync(membershipFile(dataDir)).mode & 0o777).toBe(0o600);
    // the control plane's key, in its own 0600 file where this host's processes read it; not in the membership
    expect(statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim(), 'base64')).toEqual(testSecretKey());
    expect(readFileSync(membershipFile(dataDir), 'utf8')).not.toContain(testSecretKey().toString('base64'));
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
