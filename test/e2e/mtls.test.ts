// mTLS on the API (issue 17, item 3), end to end: a cluster CA made by platform/pki.ts; the API served by the same
// code as api/main.ts (api/serve.ts) with PGCP_HTTP_* set; curl without a client certificate, and with one from
// another CA, gets no HTTP answer at all; a good certificate gets 200; the seed walkthrough (create a database, write
// on n2, read on n1, delete) runs through the TLS endpoint with curl, and the SDK's CLI reads it with --cert. The
// store's TLS: a Postgres started with storeTlsArgs (scripts/stack.ts) is reached with sslmode=verify-full and the
// cluster CA, and refused with another CA. Temporal's: the production stack's Temporal server binary (the dev server
// has no TLS option), SQLite-backed on free ports with TLS required on every port, is reached by the project's own
// connect functions with a client certificate of the CA, and refused without one or in plaintext.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig, projectRoot } from '../../platform/config.js';
import { caFiles, ensureCa, issueCertificate, type CertFiles } from '../../platform/pki.js';
import { asPostgres, chownToPostgres, pgBinDir, storeHba, storeTlsArgs } from '../../scripts/stack.js';
import { listen, type Listening } from '../../api/serve.js';
import { createStore } from '../../store/db.js';
import { Connection } from '@temporalio/client';
import type { TemporalTlsConfig } from '../../platform/config.js';
import { connectClient, connectWorker, ensureNamespace, temporalTls } from '../../platform/temporal.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { freePort } from '../support/prometheus.js';
import { nodeConnection, query } from '../support/sql.js';
import { testSecretBox, testSecretKey } from '../support/secret-key.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const run = promisify(execFile);
const id = `tls-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgcp-mtls-'));
const pki = path.join(tmp, 'pki');
const otherPki = path.join(tmp, 'other-pki');

let s: ApiStack;
let api: Listening;
let alice: CertFiles;
let mallory: CertFiles;

beforeAll(async () => {
  ensureCa(pki);
  const server = issueCertificate(pki, { kind: 'server', name: 'api-server' });
  alice = issueCertificate(pki, { kind: 'client', name: 'alice' });
  ensureCa(otherPki, 'some other CA');
  mallory = issueCertificate(otherPki, { kind: 'client', name: 'mallory' });
  s = await startApiStack(['host-1']);
  // the API's configuration as an operator writes it, served by the API's own listen()
  const config = loadConfig({ PGCP_HTTP_CA_CERT: caFiles(pki).cert, PGCP_HTTP_SERVER_CERT: server.cert, PGCP_HTTP_SERVER_KEY: server.key });
  api = await listen(s.app, { ...config.api, port: 0 });
});
afterAll(async () => {
  await api?.close();
  await s?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** curl as a user types it: -s, the CA, and a client certificate if given. Returns the HTTP status (0 when none) and body. */
async function curl(args: string[], cert?: CertFiles): Promise<{ code: number; status: number; body: string }> {
  const tls = ['--cacert', caFiles(pki).cert, ...(cert ? ['--cert', cert.cert, '--key', cert.key] : [])];
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '20', ...tls, '-w', '\n%{http_code}', ...args]);
    const nl = stdout.lastIndexOf('\n');
    return { code: 0, status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, status: Number(e.stdout.trim().split('\n').pop() || 0), body: '' };
  }
}

describe('the cluster CA', () => {
  it('keeps its keys 0600 in a 0700 directory, and its certificates chain to it', async () => {
    expect(statSync(pki).mode & 0o777).toBe(0o700);
    for (const f of ['ca.key', 'api-server.key', 'alice.key']) expect(statSync(path.join(pki, f)).mode & 0o777, f).toBe(0o600);
    const { stdout } = await run('openssl', ['verify', '-CAfile', caFiles(pki).cert, path.join(pki, 'api-server.crt'), alice.cert]);
    expect(stdout).toContain('alice.crt: OK');
    await expect(run('openssl', ['verify', '-CAfile', caFiles(pki).cert, mallory.cert])).rejects.toThrow();
  });
});

describe('mTLS on the API', () => {
  it('curl without a client certificate gets no HTTP answer: refused in the TLS handshake', async () => {
    const r = await curl([`${api.url}/v1/version`]);
    expect(r.code).not.toBe(0);
    expect(r.status).toBe(0);
  });

  it('curl with a certificate signed by another CA is refused the same way', async () => {
    const r = await curl([`${api.url}/v1/version`], mallory);
    expect(r.code).not.toBe(0);
    expect(r.status).toBe(0);
  });

  it('plain HTTP to the TLS port gets no API answer', async () => {
    const res = await fetch(api.url.replace('https:', 'http:') + '/v1/version').then((r) => r.status, () => 0);
    expect(res).not.toBe(200);
  });

  it('curl with a certificate of the cluster CA gets 200', async () => {
    const r = await curl([`${api.url}/v1/version`], alice);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ version: 'v0.0.0-test' });
  });

  it('the seed walkthrough runs through the TLS endpoint', async () => {
    const hosts = await curl([`${api.url}/v1/hosts`], alice);
    expect(JSON.parse(hosts.body).hosts[0]).toMatchObject({ id: 'host-1', status: { state: 'healthy' } });
    const spec = {
      id, spec: {
        database_name: 'example', database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
        nodes: [{ name: 'n1', host_ids: ['host-1'], port }, { name: 'n2', host_ids: ['host-1'], port: port + 1 }],
      },
    };
    const created = await curl(['-X', 'POST', `${api.url}/v1/databases`, '-H', 'Content-Type: application/json', '-d', JSON.stringify(spec)], alice);
    expect(created.status, created.body).toBe(200);
    await waitFor('database available', async () => JSON.parse((await curl([`${api.url}/v1/databases/${id}`], alice)).body).state === 'available', 300_000, 2000);
    const login = { password: 'password', database: 'example' };
    await query(nodeConnection(port, login), 'CREATE TABLE example (id int primary key, data text)');
    // AutoDDL replicates the table asynchronously, as a user's next command a moment later finds it
    await waitFor('the table on n2', async () => (await query(nodeConnection(port + 1, login), "SELECT to_regclass('public.example') IS NOT NULL AS ok"))[0].ok, 30_000, 200);
    await query(nodeConnection(port + 1, login), "INSERT INTO example VALUES (1, 'Hello from n2!')");
    await waitFor('the row on n1', async () => (await query(nodeConnection(port, login), 'SELECT data FROM example')).length === 1, 30_000);
    expect(await query(nodeConnection(port, login), 'SELECT data FROM example')).toEqual([{ data: 'Hello from n2!' }]);

    // the SDK's CLI, with the certificate as curl takes it
    const { stdout } = await run(path.join(projectRoot, 'sdk', 'bin', 'pgcp.mjs'), ['--api', api.url, '--cacert', caFiles(pki).cert, '--cert', alice.cert, '--key', alice.key, 'db', 'get', id, '--json'], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toMatchObject({ id, state: 'available' });

    // curl -X DELETE: no body, no Content-Type
    const deleted = await curl(['-X', 'DELETE', `${api.url}/v1/databases/${id}`], alice);
    expect(deleted.status, deleted.body).toBe(200);
    await waitFor('database gone', async () => (await curl([`${api.url}/v1/databases/${id}`], alice)).status === 404, 180_000, 2000);
  });
});

describe('TLS to the store', () => {
  let proc: ChildProcess | undefined;
  afterAll(() => { proc?.kill('SIGINT'); });

  it('a store started with the cluster CA\'s certificate is reached with verify-full, and refused with another CA', async () => {
    const storeCert = issueCertificate(pki, { kind: 'server', name: 'store-server', hosts: ['127.0.0.1', 'localhost'] });
    const base = path.join(tmp, 'store');
    mkdirSync(base, { mode: 0o755 });
    chmodSync(tmp, 0o755); // the postgres user walks into it
    const pgdata = path.join(base, 'pgdata');
    mkdirSync(pgdata, { mode: 0o700 });
    chownToPostgres(pgdata);
    const pwfile = path.join(base, 'pw');
    writeFileSync(pwfile, 'store-pw\n', { mode: 0o600 });
    chownToPostgres(pwfile);
    const [initdb, initArgs] = asPostgres(`${pgBinDir()}/initdb`, ['-D', pgdata, '-U', 'pgcp', '--auth=scram-sha-256', `--pwfile=${pwfile}`]);
    await run(initdb, initArgs);
    writeFileSync(path.join(pgdata, 'pg_hba.conf'), storeHba(true)); // the stack's rules with TLS on
    const storePort = await freePort();
    const [pgCmd, pgArgs] = asPostgres(`${pgBinDir()}/postgres`, ['-D', pgdata, '-p', String(storePort), '-c', 'listen_addresses=127.0.0.1', '-k', pgdata, ...storeTlsArgs(pgdata, { certFile: storeCert.cert, keyFile: storeCert.key })]);
    proc = spawn(pgCmd, pgArgs, { stdio: 'ignore' });
    const url = (ca: string) => `postgres://pgcp:store-pw@127.0.0.1:${storePort}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
    const store = createStore(url(caFiles(pki).cert), testSecretBox());
    try {
      const rows = await waitFor('the store answers over TLS', async () => (await store.query<{ ssl: boolean; version: string }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows, 30_000);
      expect(rows[0]).toEqual({ ssl: true, version: 'TLSv1.3' });
    } finally {
      await store.end();
    }
    const wrong = createStore(url(caFiles(otherPki).cert), testSecretBox());
    await expect(wrong.query('SELECT 1')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await wrong.end();
    // its rules: a plain connection is rejected even with the password; over TLS the password is required
    const plain = new pg.Client({ connectionString: `postgres://pgcp:store-pw@127.0.0.1:${storePort}/postgres`, ssl: false });
    await expect(plain.connect()).rejects.toThrow(/rejects connection.*no encryption/);
    await plain.end().catch(() => undefined);
    const noPassword = createStore(url(caFiles(pki).cert).replace(':store-pw@', ':wrong@'), testSecretBox());
    await expect(noPassword.query('SELECT 1')).rejects.toThrow(/password authentication failed/);
    await noPassword.end();
  });
});

describe('TLS to Temporal', () => {
  const serverBin = path.join(os.homedir(), '.cache', 'pgcp', 'bin', 'temporal-server');
  let proc: ChildProcess | undefined;
  afterAll(() => { proc?.kill('SIGKILL'); });

  it('the workers\' and the API\'s connections reach a TLS-only Temporal server with a client certificate, and nothing else does', async () => {
    expect(existsSync(serverBin), `${serverBin} (npm run setup -- --compose installs it)`).toBe(true);
    const dir = path.join(tmp, 'temporal');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'dynamicconfig.yaml'), '');
    const peer = issueCertificate(pki, { kind: 'peer', name: 'temporal', hosts: ['localhost', '127.0.0.1'] });
    const worker = issueCertificate(pki, { kind: 'client', name: 'worker' });
    const ca = caFiles(pki).cert;
    const ports: Record<string, string> = {};
    for (const k of ['FRONTEND_GRPC', 'FRONTEND_HTTP', 'FRONTEND_MEMBERSHIP', 'HISTORY_GRPC', 'HISTORY_MEMBERSHIP', 'MATCHING_GRPC', 'MATCHING_MEMBERSHIP', 'WORKER_GRPC', 'WORKER_MEMBERSHIP']) ports[`${k}_PORT`] = String(await freePort());
    // the server's own configuration template (as in the compose stack), on SQLite, TLS on the frontend and between its services
    proc = spawn(serverBin, ['--allow-no-auth', 'start'], {
      cwd: dir, stdio: 'ignore',
      env: {
        PATH: process.env.PATH, DB: 'sqlite', BIND_ON_IP: '127.0.0.1', DYNAMIC_CONFIG_FILE_PATH: path.join(dir, 'dynamicconfig.yaml'), ...ports,
        TEMPORAL_TLS_SERVER_CA_CERT: ca, TEMPORAL_TLS_SERVER_CERT: peer.cert, TEMPORAL_TLS_SERVER_KEY: peer.key,
        TEMPORAL_TLS_FRONTEND_CERT: peer.cert, TEMPORAL_TLS_FRONTEND_KEY: peer.key, TEMPORAL_TLS_CLIENT1_CA_CERT: ca, TEMPORAL_TLS_CLIENT2_CA_CERT: ca,
        TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true', TEMPORAL_TLS_INTERNODE_SERVER_NAME: 'localhost', TEMPORAL_TLS_FRONTEND_SERVER_NAME: 'localhost',
      },
    });
    const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
    // what PGCP_TEMPORAL_CA_CERT, _CLIENT_CERT, _CLIENT_KEY configure
    const tls = loadConfig({ PGCP_TEMPORAL_ADDRESS: address, PGCP_TEMPORAL_CA_CERT: ca, PGCP_TEMPORAL_CLIENT_CERT: worker.cert, PGCP_TEMPORAL_CLIENT_KEY: worker.key }).temporal.tls;
    await waitFor('Temporal over TLS', async () => { await ensureNamespace(address, 'pgcp-tls', tls); return true; }, 60_000, 1000);
    const nativeConnection = await connectWorker(address, tls); // the worker's (Rust core) connection
    await nativeConnection.close();
    const client = await connectClient(address, 'pgcp-tls', { secretKey: testSecretKey(), tls });
    expect((await client.workflowService.describeNamespace({ namespace: 'pgcp-tls' })).namespaceInfo?.name).toBe('pgcp-tls');
    await client.connection.close();
    const refused = async (t: TemporalTlsConfig | null) => {
      const c = await Connection.connect({ address, connectTimeout: '3s', ...temporalTls(t) }).catch((e: unknown) => e);
      if (c instanceof Error) return true;
      const ok = await (c as Connection).workflowService.getSystemInfo({}).then(() => true, () => false);
      await (c as Connection).close();
      return !ok;
    };
    expect(await refused({ ...tls!, clientCert: undefined, clientKey: undefined })).toBe(true); // no client certificate
    expect(await refused(null)).toBe(true); // plaintext
  });
});
