// Bad specs from the reference's rules: each is a 400 in pgEdge's format naming the field, and creates nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHostStatus, upsertHost } from '../../store/hosts.js';
import { apiClient, getJson } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  expect((await getJson(t.app, '/v1/cluster/init')).status).toBe(200);
  await upsertHost(t.deps.store, { id: 'host-2', address: '127.0.0.2', dataDir: '/d', cpus: 2, memoryBytes: 1 });
  for (const hostId of ['host-1', 'host-2']) {
    await writeHostStatus(t.deps.store, {
      hostId, components: { docker: { healthy: true, error: '' }, etcd: { healthy: true, error: '' } },
      details: { supportedVersions: [{ postgres_version: '15.20', spock_version: '5' }, { postgres_version: '17.12', spock_version: '5' }] },
    });
  }
});
afterAll(async () => { await t.db.drop(); });

const node = (name: string, extra: Record<string, unknown> = {}) => ({ name, host_ids: ['host-1'], ...extra });
const good = { database_name: 'app', nodes: [node('n1', { port: 5432 }), node('n2', { port: 5433 })] };
const withSpec = (patch: Record<string, unknown>) => ({ id: 'bad', spec: { ...good, ...patch } });
const svc = (patch: Record<string, unknown> = {}) => ({ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1', 'host-2'], connect_as: 'app', ...patch });

/** A string is sent as it is (malformed payloads), anything else as JSON. */
const post = (body: unknown) => apiClient(t.app)('POST', '/v1/databases', body);

const cases: [string, unknown, string, RegExp][] = [
  ['uppercase database id', { id: 'Bad_Id', spec: good }, 'invalid_input', /^id: valid IDs must be 1-36 characters long/],
  ['id with two hyphens', { id: 'a--b', spec: good }, 'invalid_input', /^id: valid IDs/],
  ['id too long', { id: 'a'.repeat(37), spec: good }, 'invalid_length', /length of body\.id must be lesser or equal than 36/],
  ['missing spec', { id: 'x' }, 'missing_field', /"spec" is missing from body/],
  ['missing nodes', { id: 'x', spec: { database_name: 'app' } }, 'missing_field', /"nodes" is missing from body\.spec/],
  ['no nodes', withSpec({ nodes: [] }), 'invalid_length', /body\.spec\.nodes/],
  ['ten nodes', withSpec({ nodes: Array.from({ length: 10 }, (_, i) => node(`n${i + 1}`, { port: 6000 + i })) }), 'invalid_length', /body\.spec\.nodes/],
  ['database_name too long', withSpec({ database_name: 'x'.repeat(32) }), 'invalid_length', /body\.spec\.database_name/],
  ['bad node name', withSpec({ nodes: [node('x1')] }), 'invalid_pattern', /body\.spec\.nodes\[0\]\.name must match the regexp "\^n\[0-9\]\+\$"/],
  // anchored here (the reference's pattern is not): a node name is part of host paths and pgBackRest's lines
  ['unanchored node name', withSpec({ nodes: [node('xn1y')] }), 'invalid_pattern', /body\.spec\.nodes\[0\]\.name must match the regexp "\^n\[0-9\]\+\$"/],
  ['duplicate node names', withSpec({ nodes: [node('n1', { port: 1 }), node('n1', { port: 2 })] }), 'invalid_input', /^nodes\[1\]\.name: duplicate node name "n1"/],
  ['bad host id', withSpec({ nodes: [{ name: 'n1', host_ids: ['Host_1'] }] }), 'invalid_input', /^nodes\[0\]\.host_ids\[0\]: valid IDs/],
  ['host listed twice', withSpec({ nodes: [{ name: 'n1', host_ids: ['host-1', 'host-1'] }] }), 'invalid_input', /^nodes\[0\]\.host_ids\[1\]: host "host-1" is listed twice/],
  ['unknown host', withSpec({ nodes: [{ name: 'n1', host_ids: ['host-9'] }] }), 'invalid_input', /^failed to validate database spec: got invalid host ids: host-9$/],
  ['duplicate ports', withSpec({ nodes: [node('n1', { port: 5432 }), node('n2', { port: 5432 })] }), 'invalid_input', /^duplicate ports allocated on host 'host-1': '5432' duplicated in: nodes\[0\]\.port, nodes\[1\]\.port$/],
  ['port out of range', withSpec({ port: 70000 }), 'invalid_range', /body\.spec\.port/],
  ['port not a number', withSpec({ port: 'x' }), 'invalid_field_type', /body\.spec\.port must be of type number/],
  ['bad postgres_version', withSpec({ postgres_version: '17' }), 'invalid_pattern', /body\.spec\.postgres_version/],
  ['unsupported major', withSpec({ postgres_version: '16.4' }), 'invalid_input', /does not support version combination: postgres=16\.4, spock=5/],
  ['bad spock_version', withSpec({ spock_version: '5.0' }), 'invalid_pattern', /body\.spec\.spock_version/],
  ['forbidden conf key', withSpec({ postgresql_conf: { HBA_FILE: '/x' } }), 'invalid_input', /^postgresql_conf\[HBA_FILE\]: "HBA_FILE" is not allowed/],
  ['ident_file on a node', withSpec({ nodes: [node('n1', { postgresql_conf: { ident_file: '/x' } })] }), 'invalid_input', /^nodes\[0\]\.postgresql_conf\[ident_file\]/],
  ['a preload library the image lacks', withSpec({ postgresql_conf: { shared_preload_libraries: 'pg_cron, timescaledb' } }), 'invalid_input', /^postgresql_conf\[shared_preload_libraries\]: library "timescaledb" is not in the image of Postgres \d+ \(its extensions: pg_cron, pgaudit, postgis/],
  ['wal_level not logical', withSpec({ postgresql_conf: { wal_level: 'replica' } }), 'invalid_input', /^postgresql_conf\[wal_level\]: must be logical/],
  ['two db owners', withSpec({ database_users: [{ username: 'a', db_owner: true }, { username: 'b', db_owner: true }] }), 'invalid_input', /^database_users: only one user can be db_owner/],
  ['duplicate usernames', withSpec({ database_users: [{ username: 'a' }, { username: 'a' }] }), 'invalid_input', /^database_users\[1\]\.username: duplicate username "a"/],
  ['reserved username', withSpec({ database_users: [{ username: 'postgres' }] }), 'invalid_input', /^database_users\[0\]\.username: "postgres" is reserved/],
  ['unknown attribute', withSpec({ database_users: [{ username: 'a', attributes: ['LOGIN', 'GODMODE'] }] }), 'invalid_input', /^database_users\[0\]\.attributes\[1\]: unsupported attribute "GODMODE"/],
  ['empty password', withSpec({ database_users: [{ username: 'a', password: '' }] }), 'invalid_length', /body\.spec\.database_users\[0\]\.password/],
  ['bad pg_hba line', withSpec({ pg_hba_conf: ['hostx all all 0.0.0.0/0 md5'] }), 'invalid_input', /^pg_hba_conf\[0\]: unknown connection type "hostx"/],
  ['bad cpus', withSpec({ cpus: '0m' }), 'invalid_input', /^cpus: must be at least 1m/],
  ['a gcs repository without its bucket', withSpec({ backup_config: { repositories: [{ type: 'gcs', gcs_endpoint: 'gcs.local' }] } }), 'invalid_input', /^backup_config\.repositories\[0\]\.gcs_bucket: gcs_bucket is required for gcs repositories/],
  ['a relative base_path', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: 'rel/dir' }] } }), 'invalid_input', /^backup_config\.repositories\[0\]\.base_path: base_path must be absolute/],
  // services (§5.7)
  ['a service without its type', withSpec({ services: [{ service_id: 'mcp' }] }), 'invalid_enum_value', /service_type/],
  ['a service version of the wrong form', withSpec({ database_users: [{ username: 'app', password: 'pw' }], services: [svc({ version: 'v1' })] }), 'invalid_pattern', /body\.spec\.services\[0\]\.version/],
  ['a service connecting as no database user', withSpec({ services: [svc({ connect_as: 'ghost' })] }), 'invalid_input', /^services\[0\]\.connect_as: connect_as "ghost" does not match any database_users entry/],
  ['a service on an unknown host', withSpec({ database_users: [{ username: 'app', password: 'pw' }], services: [svc({ host_ids: ['host-9'] })] }), 'invalid_input', /^failed to validate database spec: got invalid host ids: host-9$/],
  ['a service port taken by a node', withSpec({ database_users: [{ username: 'app', password: 'pw' }], services: [svc({ port: 5433 })] }), 'invalid_input', /^duplicate ports allocated on host 'host-1': '5433' duplicated in: nodes\[1\]\.port, services\[0\]\.port$/],
  ['an unknown MCP config key', withSpec({ database_users: [{ username: 'app', password: 'pw' }], services: [svc({ config: { allow_writes: false, colour: 'red' } })] }), 'invalid_input', /^services\[0\]\.config: unknown config key "colour"$/],
  ['a connect_as user without a clear password', withSpec({ database_users: [{ username: 'app' }], services: [svc()] }), 'invalid_input', /^services\[0\]\.connect_as: the password of database user "app" must be given in clear/],
  ['a pgedge.* extra label', withSpec({ orchestrator_opts: { swarm: { extra_labels: { 'pgedge.component': 'x' } } } }), 'invalid_input', /^orchestrator_opts\.swarm\.extra_labels\[pgedge\.component\]: label keys starting with "pgedge\." .*reserved, got "pgedge\.component"$/],
  ['a relative extra volume on a node', withSpec({ nodes: [node('n1', { port: 5432, orchestrator_opts: { swarm: { extra_volumes: [{ host_path: 'b', destination_path: '/backups' }] } } })] }), 'invalid_input', /^nodes\[0\]\.orchestrator_opts\.swarm\.extra_volumes\[0\]\.host_path: must be an absolute path on the host, got "b"$/],
  // an extra volume is mounted read-write: held to the repositories' host-path policy (PGCP_REPOSITORY_ROOTS, data directories)
  ['an extra volume outside the repository roots', withSpec({ orchestrator_opts: { swarm: { extra_volumes: [{ host_path: '/etc', destination_path: '/backups' }] } } }), 'invalid_input', /^orchestrator_opts\.swarm\.extra_volumes\[0\]\.host_path: \/etc is outside the directories the operator allows \(PGCP_REPOSITORY_ROOTS: /],
  ['an extra volume in a host\'s data directory', withSpec({ nodes: [node('n1', { port: 5432, orchestrator_opts: { swarm: { extra_volumes: [{ host_path: '/d/instances', destination_path: '/x' }] } } })] }), 'invalid_input', /^nodes\[0\]\.orchestrator_opts\.swarm\.extra_volumes\[0\]\.host_path: \/d\/instances is inside the control plane's data directory \/d$/],
  ['an unknown orchestrator_opts field type', withSpec({ orchestrator_opts: { swarm: { extra_volumes: 'x' } } }), 'invalid_field_type', /body\.spec\.orchestrator_opts\.swarm\.extra_volumes/],
  ['source_node on create', withSpec({ nodes: [node('n1', { source_node: 'n2' })] }), 'invalid_input', /^nodes\[0\]\.source_node: source_node only applies when a node is added/],
  // scripts (§5.1): ≤256 statements of 1–1024 characters, each parsed by Postgres's own parser
  ['a script statement Postgres cannot parse', withSpec({ scripts: { post_init: ['CREATE ROLE r', 'CRAETE TABLE t (id int)'] } }), 'invalid_input', /^scripts\.post_init\[1\]: not valid SQL: syntax error at or near "CRAETE"$/],
  ['two statements in one script entry', withSpec({ scripts: { post_database_create: ['CREATE TABLE t (id int); INSERT INTO t VALUES (1)'] } }), 'invalid_input', /^scripts\.post_database_create\[0\]: holds 2 statements: give each statement its own entry$/],
  ['a script entry that is only a comment', withSpec({ scripts: { post_init: ['-- nothing'] } }), 'invalid_input', /^scripts\.post_init\[0\]: holds no statement$/],
  ['COMMIT in a script', withSpec({ scripts: { post_init: ['CREATE ROLE r', 'COMMIT'] } }), 'invalid_input', /^scripts\.post_init\[1\]: transaction control .* is not allowed/],
  ['VACUUM in a script', withSpec({ scripts: { post_database_create: ['VACUUM'] } }), 'invalid_input', /^scripts\.post_database_create\[0\]: VACUUM .* cannot run inside a transaction/],
  ['CREATE INDEX CONCURRENTLY in a script', withSpec({ scripts: { post_database_create: ['CREATE INDEX CONCURRENTLY i ON t (a)'] } }), 'invalid_input', /^scripts\.post_database_create\[0\]: CONCURRENTLY cannot run inside a transaction/],
  ['257 script statements', withSpec({ scripts: { post_init: Array.from({ length: 257 }, () => 'SELECT 1') } }), 'invalid_length', /body\.spec\.scripts\.post_init/],
  ['a script statement over 1024 characters', withSpec({ scripts: { post_init: [`SELECT '${'x'.repeat(1020)}'`] } }), 'invalid_length', /body\.spec\.scripts\.post_init\[0\]/],
  ['an empty script statement', withSpec({ scripts: { post_init: [''] } }), 'invalid_length', /body\.spec\.scripts\.post_init\[0\]/],
];

describe('POST /v1/databases rejects bad specs', () => {
  it.each(cases)('%s', async (_title, body, name, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.body.name).toBe(name);
    expect(r.body.message).toMatch(message);
  });

  it('lists every problem of a spec at once, one line each', async () => {
    const r = await post(withSpec({ nodes: [node('n1', { port: 1 }), node('n1', { port: 1 })], database_users: [{ username: 'postgres' }] }));
    expect(r.body.message.split('\n')).toEqual([
      'nodes[1].name: duplicate node name "n1"',
      "duplicate ports allocated on host 'host-1': '1' duplicated in: nodes[0].port, nodes[1].port",
      'database_users[0].username: "postgres" is reserved',
    ]);
  });

  it('an empty body is missing_payload and malformed JSON is decode_payload', async () => {
    expect((await post('')).body).toMatchObject({ name: 'missing_payload', message: 'missing required payload' });
    expect((await post('{"id":')).body).toMatchObject({ name: 'decode_payload' });
  });

  it('a JSON body sent without a JSON Content-Type (curl -d) is a 415 that says so, not a server error', async () => {
    const res = await t.app.request('/v1/databases', { method: 'POST', body: JSON.stringify(withSpec({})), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toMatch(/Content-Type: application\/json/);
  });

  it('none of them created anything', async () => {
    expect((await getJson(t.app, '/v1/databases')).body).toEqual({ databases: [] });
  });

  it('unknown databases are 404 for read, update, upgrade and delete', async () => {
    for (const [method, body, path] of [['GET', undefined, ''], ['DELETE', undefined, ''], ['POST', JSON.stringify({ spec: good }), ''], ['POST', JSON.stringify({ image: 'x' }), '/upgrade']] as const) {
      const res = await t.app.request(`/v1/databases/nope${path}`, { method, body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ name: 'not_found', message: 'database not found' });
    }
  });
});
