// Issue 15: repositories and pgBackRest options under the operator's control. Each example is a 400 in pgEdge's
// format naming the field, answered before anything is stored or started: host paths outside the operator's roots,
// in the data directory or through a symbolic link; options that would send a repository's keys elsewhere; a node
// name that would add a line to a restore's configuration.
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../platform/config.js';
import { getDatabase, insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { writeHostStatus } from '../../store/hosts.js';
import { getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let root: string;
const versions = { supportedVersions: [{ postgres_version: '17.12', spock_version: '5' }] };
const stored = { database_name: 'app', postgres_version: '17.12', nodes: [{ name: 'n1', host_ids: ['host-1'], port: 21100 }], backup_config: { repositories: [{ type: 'posix' as const, base_path: '/srv/unused' }] } };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pgcp-repo-roots-'));
  await mkdir(path.join(root, 'real'));
  await symlink('/var/run', path.join(root, 'through-link'));
  const stack = inject('stack');
  const config = loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_ETCD_URL: stack.etcdUrl, PGCP_REPOSITORY_ROOTS: root });
  t = await createTestApp({ config });
  expect((await getJson(t.app, '/v1/cluster/init')).status).toBe(200);
  await writeHostStatus(t.deps.store, { hostId: 'host-1', components: { docker: { healthy: true, error: '' } }, details: versions });
  await insertDatabase(t.deps.store, { id: 'taken', tenantId: null, state: 'available', secrets: newDatabaseSecrets(), spec: stored });
});
afterAll(async () => {
  await t?.db.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function request(method: string, p: string, body: unknown) {
  const res = await t.app.request(p, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as { name: string; message: string } };
}

const spec = (patch: Record<string, unknown>) => ({ id: 'isolated', spec: { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'], port: 25500 }], ...patch } });
const posix = (base_path: string, custom_options?: Record<string, string>) => ({ repositories: [{ type: 'posix', base_path, ...(custom_options ? { custom_options } : {}) }] });
const restoreFrom = (patch: Record<string, unknown>) => ({ source_database_id: 'taken', source_node_name: 'n1', source_database_name: 'app', repository: { type: 's3', s3_bucket: 'bucket' }, ...patch });

describe('POST /v1/databases refuses host paths the operator does not allow, naming the field', () => {
  const dataDir = () => t.deps.config.dataDir;
  const examples: [string, () => unknown, () => string][] = [
    ['base_path /var/run', () => spec({ backup_config: posix('/var/run') }), () => 'backup_config.repositories[0].base_path: /var/run is outside the directories the operator allows'],
    ['a base_path with ..', () => spec({ backup_config: posix(`${root}/real/../../etc`) }), () => 'backup_config.repositories[0].base_path: must not contain "." or ".." components'],
    ['a base_path through a symbolic link', () => spec({ backup_config: posix(`${root}/through-link/backups`) }), () => `backup_config.repositories[0].base_path: ${root}/through-link is a symbolic link`],
    ['a base_path in the data directory', () => spec({ nodes: [{ name: 'n1', host_ids: ['host-1'], port: 25500, backup_config: posix(path.join(dataDir(), 'store')) }] }),
      () => `nodes[0].backup_config.repositories[0].base_path: ${path.join(dataDir(), 'store')} is inside the control plane's data directory`],
    ['a storage-ca-file in the data directory (the store\'s socket)', () => spec({ backup_config: posix(`${root}/real`, { 'storage-ca-file': path.join(dataDir(), 'store', '.s.PGSQL.7432') }) }),
      () => `backup_config.repositories[0].custom_options[storage-ca-file]: ${path.join(dataDir(), 'store', '.s.PGSQL.7432')} is inside the control plane's data directory`],
    ['a source_node_name with a newline', () => spec({ restore_config: restoreFrom({ source_node_name: 'n1\nx=y' }) }), () => 'source_node_name'],
    ['a restore option that sends the keys elsewhere', () => spec({ restore_config: restoreFrom({ restore_options: { 'repo1-storage-host': 'attacker.example' } }) }), () => 'restore_config.restore_options[repo1-storage-host]: "repo1-storage-host" is not allowed'],
  ];

  it.each(examples)('%s', async (_label, body, message) => {
    const r = await request('POST', '/v1/databases', body());
    expect(r.status).toBe(400);
    expect(['invalid_input', 'invalid_pattern']).toContain(r.body.name);
    expect(r.body.message).toContain(message());
  });

  it('none of them stored a database', async () => {
    expect((await getJson(t.app, '/v1/databases')).body).toMatchObject({ databases: [{ id: 'taken' }] });
    expect(await getDatabase(t.deps.store, 'isolated')).toBeNull();
  });
});

describe('operations refuse options that would redirect the repository, naming the key, and change nothing', () => {
  it('backup_options {"repo1-path": …}', async () => {
    const r = await request('POST', '/v1/databases/taken/nodes/n1/backups', { type: 'full', backup_options: { 'repo1-path': '/tmp/elsewhere', 'start-fast': 'y' } });
    expect(r).toEqual({ status: 400, body: { name: 'invalid_input', message: 'backup_options[repo1-path]: "repo1-path" is not allowed: repository, data directory, configuration and command options are the control plane\'s' } });
  });

  it('backup_options outside the allow-list', async () => {
    const r = await request('POST', '/v1/databases/taken/nodes/n1/backups', { type: 'full', backup_options: { 'cmd-ssh': '/bin/sh', 'spool-path': '/tmp', 'no-such': '1' } });
    expect(r.status).toBe(400);
    expect(r.body.message.split('\n')).toEqual([
      expect.stringMatching(/^backup_options\[cmd-ssh\]: "cmd-ssh" is not allowed/),
      expect.stringMatching(/^backup_options\[spool-path\]: "spool-path" is not allowed/),
      expect.stringMatching(/^backup_options\[no-such\]: "no-such" is not an allowed option; allowed: delta, process-max/),
    ]);
  });

  it('restore_options {"repo1-storage-host": …}', async () => {
    const r = await request('POST', '/v1/databases/taken/restore', { restore_config: restoreFrom({ restore_options: { 'repo1-storage-host': 'attacker.example', type: 'immediate' } }) });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('restore_config.restore_options[repo1-storage-host]: "repo1-storage-host" is not allowed');
  });

  it('a restore source_node_name "n1\\nx=y"', async () => {
    const r = await request('POST', '/v1/databases/taken/restore', { restore_config: restoreFrom({ source_node_name: 'n1\nx=y' }) });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('source_node_name');
  });

  it('an in-place restore from another database\'s posix repository (its nodes do not mount it)', async () => {
    const r = await request('POST', '/v1/databases/taken/restore', { restore_config: restoreFrom({ source_database_id: 'other', repository: { type: 'posix', base_path: '/srv/unused' } }) });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('restore_config.source_database_id: an in-place restore from another database\'s posix or cifs repository is not supported');
  });

  it('the database is untouched', async () => {
    expect((await getDatabase(t.deps.store, 'taken'))?.state).toBe('available');
  });
});

describe('PGCP_CROSS_DATABASE_RESTORE=refuse', () => {
  it('refuses a database created from another database\'s backups, naming source_database_id', async () => {
    const stack = inject('stack');
    const strict = await createTestApp({ config: loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_ETCD_URL: stack.etcdUrl, PGCP_REPOSITORY_ROOTS: root, PGCP_CROSS_DATABASE_RESTORE: 'refuse' }) }, t.db);
    const res = await strict.app.request('/v1/databases', { method: 'POST', body: JSON.stringify(spec({ restore_config: restoreFrom({}) })), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await res.json()) as unknown).toEqual({ name: 'invalid_input', message: 'restore_config.source_database_id: restoring another database\'s backups is refused by this control plane (PGCP_CROSS_DATABASE_RESTORE=refuse)' });
    expect(await getDatabase(t.deps.store, 'isolated')).toBeNull();
  });
});
