// Hostile and careless input (issue 20): each example is a 400 in pgEdge's format naming the field, before anything
// is created or changed; bodies are bounded (413), lists are capped, and every error status is declared.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { upsertHost, writeHostStatus } from '../../store/hosts.js';
import { getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const versions = { supportedVersions: [{ postgres_version: '15.20', spock_version: '5' }, { postgres_version: '17.12', spock_version: '5' }] };
beforeAll(async () => {
  t = await createTestApp();
  expect((await getJson(t.app, '/v1/cluster/init')).status).toBe(200);
  await upsertHost(t.deps.store, { id: 'host-2', address: '127.0.0.2', dataDir: '/d', cpus: 2, memoryBytes: 1 });
  for (const hostId of ['host-1', 'host-2']) {
    await writeHostStatus(t.deps.store, { hostId, components: { docker: { healthy: true, error: '' } }, details: versions });
  }
  // a database already on host-1:21000 (stored directly: no task runs here)
  await insertDatabase(t.deps.store, {
    id: 'taken', tenantId: null, state: 'available', secrets: newDatabaseSecrets(),
    spec: { database_name: 'app', postgres_version: '17.12', nodes: [{ name: 'n1', host_ids: ['host-1'], port: 21000 }] },
  });
});
afterAll(async () => { await t.db.drop(); });

const node = (name: string, extra: Record<string, unknown> = {}) => ({ name, host_ids: ['host-1'], ...extra });
const good = { database_name: 'app', nodes: [node('n1', { port: 25432 }), node('n2', { port: 25433 })] };
const withSpec = (patch: Record<string, unknown>) => ({ id: 'hostile', spec: { ...good, ...patch } });
const backups = (schedule: Record<string, unknown>) => ({ repositories: [{ type: 'posix', base_path: '/b' }], schedules: [{ id: 'd', type: 'full', ...schedule }] });

async function request(method: string, path: string, body?: unknown) {
  const res = await t.app.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as { name: string; message: string } };
}

const examples: [string, unknown, string][] = [
  ['a newline inside a pg_hba line', withSpec({ pg_hba_conf: ['host all all 0.0.0.0/0 md5\nhost all all ::/0 trust'] }), 'pg_hba_conf[0]: must not contain control characters or line separators (found U+000A at position 26)'],
  ['U+007F in a postgresql_conf value', withSpec({ nodes: [node('n1', { postgresql_conf: { application_name: 'a\u007f' } })] }), 'nodes[0].postgresql_conf[application_name]: must not contain control characters or line separators (found U+007F at position 1)'],
  ['a newline in a postgresql_conf value', withSpec({ postgresql_conf: { search_path: "public\nshared_preload_libraries = 'x'" } }), 'postgresql_conf[search_path]: must not contain control characters or line separators (found U+000A at position 6)'],
  ['a newline in a repository custom option', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b', custom_options: { 'archive-timeout': '60\ncmd-ssh=/tmp/x' } }] } }), 'backup_config.repositories[0].custom_options[archive-timeout]: must not contain control characters'],
  ['a 64-byte username', withSpec({ database_users: [{ username: 'u'.repeat(64) }] }), 'database_users[0].username: must be at most 63 bytes (Postgres truncates longer names), got 64'],
  ['public as a username', withSpec({ database_users: [{ username: 'public' }] }), 'database_users[0].username: "public" is reserved'],
  ['LOGIN with NOLOGIN', withSpec({ database_users: [{ username: 'app', attributes: ['LOGIN', 'NOLOGIN'] }] }), 'database_users[0].attributes: "LOGIN" and "NOLOGIN" contradict each other'],
  ['a 6-field cron (every second)', withSpec({ backup_config: backups({ cron_expression: '* * * * * *' }) }), 'backup_config.schedules[0].cron_expression: must have 5 fields (minute hour day-of-month month day-of-week), got 6'],
  ['a port another database uses on the host', withSpec({ nodes: [node('n1', { port: 21000 })] }), 'nodes[0].port: port 21000 on host host-1 is already used by database taken (nodes[0].port)'],
  ['port 7432 (the store)', withSpec({ port: 7432, nodes: [node('n1')] }), "port: port 7432 is the control plane's own (store Postgres)"],
  ['an unknown postgresql_conf name', withSpec({ postgresql_conf: { work_memory: '8MB' } }), 'postgresql_conf[work_memory]: unknown parameter "work_memory" for Postgres 17'],
  ['a postgresql_conf value of the wrong type', withSpec({ postgres_version: '15.20', postgresql_conf: { work_mem: 'lots' } }), 'postgresql_conf[work_mem]: must be an integer in kB'],
  ['a NUL in a password (jsonb cannot hold it)', withSpec({ database_users: [{ username: 'app', password: 'a\u0000b' }] }), 'database_users[0].password: must not contain NUL characters or unpaired UTF-16 surrogates'],
  ['an unpaired surrogate in a conf key', withSpec({ postgresql_conf: { ['x\ud800']: 'y' } }), 'postgresql_conf: must not contain NUL characters or unpaired UTF-16 surrogates'],
];

describe('POST /v1/databases refuses each example of issue 20 with a 400 naming the field', () => {
  it.each(examples)('%s', async (_label, body, message) => {
    const r = await request('POST', '/v1/databases', body);
    expect(r.status).toBe(400);
    expect(r.body.name).toBe('invalid_input');
    expect(r.body.message).toContain(message);
  });

  it('an update is held to the same rules, and to the ports of the other databases only', async () => {
    const r = await request('POST', '/v1/databases/taken', { spec: { database_name: 'app', nodes: [node('n1', { port: 21000, postgresql_conf: { 'a\nb': 1 } })] } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('nodes[0].postgresql_conf: key "a\\nb" must not contain control characters or line separators (found U+000A at position 1)');
  });

  it('none of them created or changed anything', async () => {
    expect((await getJson(t.app, '/v1/databases')).body).toMatchObject({ databases: [{ id: 'taken', state: 'available' }] });
  });
});

describe('operation bodies', () => {
  it('scheduled_at more than 30 days ahead is refused, for switchover and restart alike', async () => {
    const later = new Date(Date.now() + 31 * 86_400_000).toISOString();
    for (const path of ['/v1/databases/taken/nodes/n1/switchover', '/v1/databases/taken/instances/taken-n1-689qacsi/restart']) {
      const r = await request('POST', path, { scheduled_at: later });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ name: 'invalid_input', message: 'scheduled_at must be at most 30 days ahead' });
    }
  });

  it('a newline in a backup option or annotation is refused before anything is looked up', async () => {
    const r = await request('POST', '/v1/databases/nope/nodes/n1/backups', { type: 'full', backup_options: { 'archive-copy': 'y\n--cmd-ssh=x' }, annotations: { by: 'me\r' } });
    expect(r.status).toBe(400);
    expect(r.body.message.split('\n')).toEqual([
      'backup_options[archive-copy]: must not contain control characters or line separators (found U+000A at position 1)',
      'annotations[by]: must not contain control characters or line separators (found U+000D at position 2)',
    ]);
  });

  it('a newline in a restore source is refused', async () => {
    const r = await request('POST', '/v1/databases/taken/restore', { restore_config: { source_database_id: 'taken', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b\n[global]' } } });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('restore_config.repository.base_path: must not contain control characters');
  });
});

describe('bounded requests', () => {
  /** Sends `size` bytes of JSON whitespace over a real socket; resolves with the answer and how long it took. */
  async function send(port: number, size: number, chunked: boolean) {
    const started = performance.now();
    const headers = { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': size }) };
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/databases', headers }, (r) => {
        let body = '';
        r.on('data', (d) => { body += d; });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < size && req.write(chunk)) sent += chunk.length;
        if (sent < size) req.once('drain', () => { sent += chunk.length; pump(); });
        else req.end();
      };
      pump();
    });
    return { ...res, ms: performance.now() - started };
  }

  it('a 30 MB body is a 413 in the error format, answered before it is read (with or without Content-Length)', async () => {
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    try {
      for (const chunked of [false, true]) {
        const res = await send(port, 30 * 1024 * 1024, chunked);
        console.log(`30 MB body${chunked ? ' (chunked)' : ''} answered ${res.status} in ${res.ms.toFixed(0)} ms`);
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body)).toEqual({ name: 'payload_too_large', message: 'the request body must be at most 1048576 bytes' });
      }
    } finally {
      server.close();
    }
  });

  it('limit above 1000 is refused on every list', async () => {
    for (const path of ['/v1/tasks?limit=1001', '/v1/databases/taken/tasks?limit=5000', '/v1/hosts/host-1/tasks?limit=1001', '/v1/databases/taken/tasks/00000000-0000-7000-8000-000000000000/log?limit=1001']) {
      const r = await request('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body).toMatchObject({ name: 'invalid_range', message: 'limit must be lesser or equal than 1000' });
    }
  });

  it('every status an operation answers is declared in /v1/openapi.json', async () => {
    const doc = (await getJson(t.app, '/v1/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const declared = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(declared('/v1/databases/{database_id}/tasks/{task_id}/log', 'get')).toEqual(['200', '400', '403', '404', '409', '500']);
    expect(declared('/v1/databases', 'post')).toEqual(['200', '400', '403', '409', '413', '415', '500']);
    expect(declared('/v1/databases/{database_id}/instances/{instance_id}/stop-instance', 'post')).toEqual(['200', '400', '403', '404', '409', '413', '415', '500']);
    expect(declared('/v1/databases/{database_id}', 'delete')).toEqual(['200', '400', '403', '404', '409', '415', '500']);
    expect(declared('/v1/version', 'get')).toEqual(['200', '403', '500']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toContain('500');
        expect(Object.keys(op.responses), `${method} ${path}`).toContain('403');
        if (path.includes('{') || method === 'post') expect(Object.keys(op.responses), `${method} ${path}`).toContain('400');
      }
    }
  });
});
