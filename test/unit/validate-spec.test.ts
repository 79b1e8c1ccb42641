import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { validateSpec } from '../../workflows/model/validate-spec.js';

const base = (): DatabaseSpec => ({
  database_name: 'app',
  nodes: [
    { name: 'n1', host_ids: ['host-1'] },
    { name: 'n2', host_ids: ['host-2'] },
  ],
});
const withSpec = (patch: Partial<DatabaseSpec>): DatabaseSpec => ({ ...base(), ...patch });
const withNode = (patch: Partial<DatabaseSpec['nodes'][number]>): DatabaseSpec => {
  const s = base();
  s.nodes[0] = { ...s.nodes[0]!, ...patch };
  return s;
};

type Case = [label: string, spec: DatabaseSpec, path: string, message: string];
const bad: Case[] = [
  ['duplicate node names', withSpec({ nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n1', host_ids: ['host-2'] }] }), 'nodes[1].name', 'duplicate node name "n1"'],
  ['a host listed twice in a node', withNode({ host_ids: ['host-1', 'host-3', 'host-1'] }), 'nodes[0].host_ids[2]', 'host "host-1" is listed twice'],
  ['a node name that only contains n<digits>', withNode({ name: 'xn1y' }), 'nodes[0].name', 'got "xn1y"'],
  ['database_name postgres', withSpec({ database_name: 'postgres' }), 'database_name', '"postgres" is reserved'],
  ['database_name template1', withSpec({ database_name: 'template1' }), 'database_name', '"template1" is reserved'],
  ['hba_file in postgresql_conf', withSpec({ postgresql_conf: { hba_file: '/x' } }), 'postgresql_conf[hba_file]', '"hba_file" is not allowed'],
  ['IDENT_FILE in any case', withSpec({ postgresql_conf: { IDENT_FILE: '/x' } }), 'postgresql_conf[IDENT_FILE]', '"IDENT_FILE" is not allowed'],
  ['Hba_File in a node conf', withNode({ postgresql_conf: { Hba_File: '/x' } }), 'nodes[0].postgresql_conf[Hba_File]', 'managed by the control plane'],
  ['listen_addresses', withSpec({ postgresql_conf: { listen_addresses: '*' } }), 'postgresql_conf[listen_addresses]', 'managed by the control plane'],
  ['synchronous_standby_names', withNode({ postgresql_conf: { synchronous_standby_names: '*' } }), 'nodes[0].postgresql_conf[synchronous_standby_names]', 'Patroni names the synchronous standby'],
  ['wal_level replica', withSpec({ postgresql_conf: { wal_level: 'replica' } }), 'postgresql_conf[wal_level]', 'must be logical'],
  ['track_commit_timestamp off on a node', withNode({ postgresql_conf: { track_commit_timestamp: 'off' } }), 'nodes[0].postgresql_conf[track_commit_timestamp]', 'must be on'],
  ['a non-string shared_preload_libraries', withSpec({ postgresql_conf: { shared_preload_libraries: ['pg_stat_statements'] } }), 'postgresql_conf[shared_preload_libraries]', 'must be a string'],
  ['an object conf value', withSpec({ postgresql_conf: { work_mem: { mb: 4 } } }), 'postgresql_conf[work_mem]', 'must be a string, number or boolean'],
  ['a pg_hba line of unknown type', withSpec({ pg_hba_conf: ['host all all 0.0.0.0/0 md5', 'hots all all 0.0.0.0/0 md5'] }), 'pg_hba_conf[1]', 'unknown connection type "hots"'],
  ['a host pg_hba line missing its address', withNode({ pg_hba_conf: ['host all all md5'] }), 'nodes[0].pg_hba_conf[0]', 'expected at least 5 fields, got 4'],
  ['a pg_ident line with two fields', withSpec({ pg_ident_conf: ['map alice'] }), 'pg_ident_conf[0]', 'got 2 fields'],
  ['a node pg_ident line with four fields', withNode({ pg_ident_conf: ['# ok', 'map a b c'] }), 'nodes[0].pg_ident_conf[1]', 'got 4 fields'],
  ['two db_owner users', withSpec({ database_users: [{ username: 'a', db_owner: true }, { username: 'b' }, { username: 'c', db_owner: true }] }), 'database_users', 'database_users[0], database_users[2]'],
  ['a duplicate username', withSpec({ database_users: [{ username: 'app' }, { username: 'app' }] }), 'database_users[1].username', 'duplicate username "app"'],
  ['the reserved username postgres', withSpec({ database_users: [{ username: 'postgres' }] }), 'database_users[0].username', '"postgres" is reserved'],
  ['a pg_ username', withSpec({ database_users: [{ username: 'pg_monitor' }] }), 'database_users[0].username', 'is reserved'],
  ['an unsupported attribute', withSpec({ database_users: [{ username: 'app', attributes: ['LOGIN', 'SUPERDUPER'] }] }), 'database_users[0].attributes[1]', 'unsupported attribute "SUPERDUPER"'],
  ['cpus of zero', withSpec({ cpus: '0.000' }), 'cpus', 'must be at least 1m'],
  ['node cpus of 0m', withNode({ cpus: '0m' }), 'nodes[0].cpus', 'must be at least 1m'],
  ['unparsable memory', withSpec({ memory: 'lots' }), 'memory', 'cannot parse "lots"'],
  ['node memory with an unknown unit', withNode({ memory: '4 parsecs' }), 'nodes[0].memory', 'cannot parse "4 parsecs"'],
  ['a service connecting as an unknown user', withSpec({ services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'nobody' }] }), 'services[0].connect_as', 'connect_as "nobody" does not match any database_users entry'],
  ['an unknown MCP config key', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { allow_write: true } }] }), 'services[0].config', 'unknown config key "allow_write"'],
  ['an LLM key without the LLM', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { anthropic_api_key: 'sk' } }] }), 'services[0].config', 'anthropic_api_key is not allowed when llm_enabled is false'],
  ['an LLM without its provider', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { llm_enabled: true } }] }), 'services[0].config', 'llm_provider is required'],
  ['allow_writes against a standby', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { allow_writes: true }, database_connection: { target_session_attrs: 'standby' } }] }), 'services[0].config', 'allow_writes requires database_connection.target_session_attrs primary or read-write'],
  ['a wrongly typed config value', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { allow_writes: 'yes' } }] }), 'services[0].config', 'allow_writes must be a boolean'],
  ['a target node not in the spec', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', database_connection: { target_nodes: ['n9'] } }] }), 'services[0].database_connection.target_nodes[0]', 'node "n9" is not in the spec'],
  ['PostgREST without its anon role', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'rest', service_type: 'postgrest', version: 'latest', host_ids: ['host-1'], connect_as: 'app' }] }), 'services[0].config', 'db_anon_role is required'],
  ['a short PostgREST jwt_secret', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'rest', service_type: 'postgrest', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { db_anon_role: 'anon', jwt_secret: 'short' } }] }), 'services[0].config', 'jwt_secret must be at least 32 characters'],
  ['a RAG pipeline with an unknown field', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'rag', service_type: 'rag', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: { pipelines: [{ name: 'docs', tables: [{ table: 't', text_column: 'x', vector_column: 'v' }], embedding_llm: { provider: 'ollama', model: 'm' }, rag_llm: { provider: 'ollama', model: 'm' }, colour: 'red' }] } }] }), 'services[0].config.pipelines[0]', 'unknown field "colour"'],
  ['a service with unparsable memory', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', memory: 'lots' }] }), 'services[0].memory', 'cannot parse "lots"'],
  ['a duplicate service_id', withSpec({ database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app' }, { service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-2'], connect_as: 'app' }] }), 'services[1].service_id', 'duplicate service_id "mcp"'],
  ['a service port clashing with a node port', withSpec({ port: 6000, database_users: [{ username: 'app' }], services: [{ service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', port: 6000 }] }), '', "duplicate ports allocated on host 'host-1': '6000' duplicated in: port, services[0].port"],
  ['a relative posix base_path', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: 'backups' }] } }), 'backup_config.repositories[0].base_path', 'base_path must be absolute'],
  ['a posix repository without base_path', withSpec({ backup_config: { repositories: [{ type: 'posix' }] } }), 'backup_config.repositories[0].base_path', 'base_path is required'],
  ['an s3 repository without a bucket', withSpec({ backup_config: { repositories: [{ type: 's3', s3_region: 'eu-west-1' }] } }), 'backup_config.repositories[0].s3_bucket', 's3_bucket is required for s3 repositories'],
  ['an s3 key without its secret', withSpec({ backup_config: { repositories: [{ type: 's3', s3_bucket: 'bkt', s3_key: 'AK' }] } }), 'backup_config.repositories[0].s3_key_secret', 's3_key_secret is required'],
  ['a gcs repository without a bucket', withSpec({ backup_config: { repositories: [{ type: 'gcs' }] } }), 'backup_config.repositories[0].gcs_bucket', 'gcs_bucket is required'],
  ['an azure repository without its key', withSpec({ backup_config: { repositories: [{ type: 'azure', azure_account: 'acct', azure_container: 'ctr' }] } }), 'backup_config.repositories[0].azure_key', 'azure_key is required'],
  ['a gcs key that is a service-account key', withSpec({ backup_config: { repositories: [{ type: 'gcs', gcs_bucket: 'bkt', gcs_key: btoa('{"type": "service_account"}') }] } }), 'backup_config.repositories[0].gcs_key', 'service-account keys are not supported'],
  ['a gcs key with a prefixed service key type', withSpec({ backup_config: { repositories: [{ type: 'gcs', gcs_bucket: 'bkt', gcs_key: 'tok', custom_options: { 'repo1-gcs-key-type': 'service' } }] } }), 'backup_config.repositories[0].gcs_key', 'used as an access token'],
  ['a relative CA file', withSpec({ backup_config: { repositories: [{ type: 's3', s3_bucket: 'bkt', custom_options: { 'storage-ca-file': 'ca.pem' } }] } }), 'backup_config.repositories[0].custom_options', 'storage-ca-file must be an absolute path'],
  ['a custom option that would move the repository', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b', custom_options: { 'repo1-path': '/elsewhere' } }] } }), 'backup_config.repositories[0].custom_options[repo1-path]', 'is set by the control plane'],
  ['a custom option that would change the repository\'s encryption', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b', custom_options: { 'cipher-pass': 'mine' } }] } }), 'backup_config.repositories[0].custom_options[cipher-pass]', 'is set by the control plane'],
  ['a restore option that sends the keys elsewhere', withSpec({ restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b' }, restore_options: { 'repo1-storage-host': 'attacker.example' } } }), 'restore_config.restore_options[repo1-storage-host]', 'is not allowed'],
  ['a restore option outside the allow-list', withSpec({ restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b' }, restore_options: { 'link-all': '' } } }), 'restore_config.restore_options[link-all]', 'is not an allowed option'],
  ['a bad custom option key', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b', custom_options: { 'Bad_Key': 'x' } }] } }), 'backup_config.repositories[0].custom_options', 'invalid option key "Bad_Key"'],
  ['two schedules with one id', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b' }], schedules: [{ id: 'd', type: 'full', cron_expression: '0 0 * * *' }, { id: 'd', type: 'incr', cron_expression: '0 * * * *' }] } }), 'backup_config.schedules[1].id', 'duplicate schedule id d'],
  ['a restore_config from an s3 repository without a bucket', withSpec({ restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 's3' } } }), 'restore_config.repository.s3_bucket', 's3_bucket is required'],
  ['a restore_config with a bad option key', withSpec({ restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b' }, restore_options: { 'X Y': '1' } } }), 'restore_config.restore_options[X Y]', 'invalid option key'],
  ['a pgedge.* extra label', withSpec({ orchestrator_opts: { swarm: { extra_labels: { 'pgedge.x': 'y', ok: 'z' } } } }), 'orchestrator_opts.swarm.extra_labels[pgedge.x]', 'reserved, got "pgedge.x"'],
  ['a relative extra volume', withNode({ orchestrator_opts: { swarm: { extra_volumes: [{ host_path: 'backups', destination_path: '/backups' }] } } }), 'nodes[0].orchestrator_opts.swarm.extra_volumes[0].host_path', 'must be an absolute path'],
  ['an extra volume with ..', withSpec({ orchestrator_opts: { swarm: { extra_volumes: [{ host_path: '/srv/../etc', destination_path: '/backups' }] } } }), 'orchestrator_opts.swarm.extra_volumes[0].host_path', 'must not contain "." or ".."'],
  ['an extra volume over the data', withSpec({ orchestrator_opts: { swarm: { extra_volumes: [{ host_path: '/srv/x', destination_path: '/var/lib/postgresql' }] } } }), 'orchestrator_opts.swarm.extra_volumes[0].destination_path', "must not cover the control plane's own mounts"],
  ['a pgEdge tag of another version', withSpec({ postgres_version: '17.6', orchestrator_opts: { swarm: { image: 'ghcr.io/pgedge/pgedge-postgres:18.1-spock5.0.4-standard-1' } } }), 'orchestrator_opts.swarm.image', 'does not match postgres_version 17.6'],
  ['a node backup_config with a relative base_path', withNode({ backup_config: { repositories: [{ type: 'cifs', base_path: 'x' }] } }), 'nodes[0].backup_config.repositories[0].base_path', 'must be absolute'],
  ['source_node on create', withSpec({ nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-2'], source_node: 'n1' }] }), 'nodes[1].source_node', 'only applies when a node is added'],
];

const repo = (patch: Record<string, unknown>) => withSpec({ backup_config: { repositories: [{ type: 's3', s3_bucket: 'bkt', ...patch }] } });
const restoreFrom = (patch: Record<string, unknown>) => withSpec({ restore_config: { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'app', repository: { type: 'posix', base_path: '/b' }, ...patch } });
/** Strings that passed validation and broke a configuration file, a name or a command line later (issue 20). */
const hostile: Case[] = [
  ['a newline inside a pg_hba line', withSpec({ pg_hba_conf: ['host all all 0.0.0.0/0 md5\nhost all all ::/0 trust'] }), 'pg_hba_conf[0]', 'found U+000A at position 26'],
  ['a carriage return in a node pg_ident line', withNode({ pg_ident_conf: ['map a b\r'] }), 'nodes[0].pg_ident_conf[0]', 'found U+000D'],
  ['U+2028 in a pg_ident line', withSpec({ pg_ident_conf: ['map a\u2028b c'] }), 'pg_ident_conf[0]', 'found U+2028'],
  ['U+007F in a postgresql_conf value', withNode({ postgresql_conf: { work_mem: '4MB\u007f' } }), 'nodes[0].postgresql_conf[work_mem]', 'found U+007F'],
  ['U+007F in a postgresql_conf key', withSpec({ postgresql_conf: { 'work\u007fmem': '4MB' } }), 'postgresql_conf', 'key "work\u007fmem" must not contain'],
  ['a newline in a postgresql_conf value', withSpec({ postgresql_conf: { search_path: "public\nshared_preload_libraries = 'evil'" } }), 'postgresql_conf[search_path]', 'found U+000A'],
  ['NEL (U+0085, a YAML line break) in a conf value', withSpec({ postgresql_conf: { application_name: 'a\u0085b' } }), 'postgresql_conf[application_name]', 'found U+0085'],
  ['a tab in a conf value', withSpec({ postgresql_conf: { application_name: 'a\tb' } }), 'postgresql_conf[application_name]', 'found U+0009'],
  ['a newline in an s3 bucket (a [global] option injected)', repo({ s3_bucket: 'bkt\ncmd-ssh=/tmp/x' }), 'backup_config.repositories[0].s3_bucket', 'found U+000A'],
  ['a newline in a custom_options value', repo({ custom_options: { 'storage-port': '443\nconfig-include-path=/tmp' } }), 'backup_config.repositories[0].custom_options[storage-port]', 'found U+000A'],
  ['a newline in a node repository base_path', withNode({ backup_config: { repositories: [{ type: 'posix', base_path: '/b\n[global]' }] } }), 'nodes[0].backup_config.repositories[0].base_path', 'found U+000A'],
  ['a newline in a restore option value', restoreFrom({ restore_options: { target: '2025-01-01\nx' } }), 'restore_config.restore_options[target]', 'found U+000A'],
  ['a restore source node that is a path', restoreFrom({ source_node_name: 'n1/../../etc' }), 'restore_config.source_node_name', 'node names are n followed by digits'],
  ['a newline in a restore repository field', restoreFrom({ repository: { type: 'posix', base_path: '/b\n' } }), 'restore_config.repository.base_path', 'found U+000A'],
  ['a control character in a schedule id', withSpec({ backup_config: { repositories: [{ type: 'posix', base_path: '/b' }], schedules: [{ id: 'd\u0001', type: 'full', cron_expression: '0 0 * * *' }] } }), 'backup_config.schedules[0].id', 'found U+0001'],
  ['a 64-byte username', withSpec({ database_users: [{ username: 'u'.repeat(64) }] }), 'database_users[0].username', 'at most 63 bytes (Postgres truncates longer names), got 64'],
  ['a 32-character username of 64 bytes', withSpec({ database_users: [{ username: 'é'.repeat(32) }] }), 'database_users[0].username', 'got 64'],
  ['a database name of 31 characters and 93 bytes', withSpec({ database_name: '日'.repeat(31) }), 'database_name', 'at most 63 bytes'],
  ['a newline in a username', withSpec({ database_users: [{ username: 'a\nb' }] }), 'database_users[0].username', 'found U+000A'],
  ['a 64-byte role', withSpec({ database_users: [{ username: 'app', roles: ['r'.repeat(64)] }] }), 'database_users[0].roles[0]', 'at most 63 bytes'],
  ['public as a username', withSpec({ database_users: [{ username: 'public' }] }), 'database_users[0].username', '"public" is reserved'],
  ['NONE as a username', withSpec({ database_users: [{ username: 'NONE' }] }), 'database_users[0].username', '"NONE" is reserved'],
  ['current_user as a username', withSpec({ database_users: [{ username: 'current_user' }] }), 'database_users[0].username', 'is reserved'],
  ['public as a granted role', withSpec({ database_users: [{ username: 'app', roles: ['public'] }] }), 'database_users[0].roles[0]', '"public" is reserved by Postgres'],
  ['session_user as a granted role', withSpec({ database_users: [{ username: 'app', roles: ['SESSION_USER'] }] }), 'database_users[0].roles[0]', 'is reserved by Postgres'],
  ['LOGIN and NOLOGIN', withSpec({ database_users: [{ username: 'app', attributes: ['LOGIN', 'NOLOGIN'] }] }), 'database_users[0].attributes', '"LOGIN" and "NOLOGIN" contradict each other'],
  ['superuser and NOSUPERUSER in any case', withSpec({ database_users: [{ username: 'app', attributes: ['NOSUPERUSER', 'superuser'] }] }), 'database_users[0].attributes', '"SUPERUSER" and "NOSUPERUSER"'],
];

describe('validateSpec refuses hostile and careless strings, naming the field', () => {
  it.each(hostile)('%s', (_label, spec, path, message) => {
    const issues = validateSpec(spec, true);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('keeps tabs in pg_hba and pg_ident lines (their field separator) and any character in passwords', () => {
    const spec = withSpec({ pg_hba_conf: ['host\tall\tall\t10.0.0.0/8\tmd5'], pg_ident_conf: ['map\ta\tb'], database_users: [{ username: 'ünïcode-63'.padEnd(31, 'x'), password: 'p\tw\n' }] });
    expect(validateSpec(spec, true)).toEqual([]);
  });
});

describe('validateSpec refuses', () => {
  it.each(bad)('%s', (_label, spec, path, message) => {
    const issues = validateSpec(spec, true);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });
});

describe('validateSpec on ports', () => {
  const portIssues = (spec: DatabaseSpec) => validateSpec(spec, true).filter((i) => i.message.startsWith('duplicate ports'));

  it('names both node ports that collide on one host', () => {
    const spec = withSpec({ nodes: [{ name: 'n1', host_ids: ['host-1'], port: 5432 }, { name: 'n2', host_ids: ['host-1'], port: 5432 }] });
    expect(portIssues(spec)).toEqual([{ path: '', message: "duplicate ports allocated on host 'host-1': '5432' duplicated in: nodes[0].port, nodes[1].port" }]);
  });

  it('names the database-level port twice when two nodes on one host inherit it', () => {
    const spec = withSpec({ port: 5432, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'] }] });
    expect(portIssues(spec)).toEqual([{ path: '', message: "duplicate ports allocated on host 'host-1': '5432' duplicated in: port, port" }]);
  });

  it('catches a node port colliding with an inherited one, and Patroni ports too', () => {
    const spec = withSpec({ port: 6000, patroni_port: 8100, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'], port: 6000, patroni_port: 8100 }] });
    expect(portIssues(spec).map((i) => i.message)).toEqual([
      "duplicate ports allocated on host 'host-1': '6000' duplicated in: port, nodes[1].port",
      "duplicate ports allocated on host 'host-1': '8100' duplicated in: patroni_port, nodes[1].patroni_port",
    ]);
  });

  it('allows one port on different hosts and port 0 (any free port) anywhere', () => {
    expect(portIssues(withSpec({ port: 5432 }))).toEqual([]);
    const spec = withSpec({ port: 0, patroni_port: 0, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'] }] });
    expect(portIssues(spec)).toEqual([]);
  });
});

describe('validateSpec accepts', () => {
  it('a minimal spec', () => {
    expect(validateSpec(base(), true)).toEqual([]);
  });

  it('a spec using every supported field', () => {
    const spec: DatabaseSpec = {
      database_name: 'storefront',
      postgres_version: '17.6',
      spock_version: '5',
      port: 5432,
      patroni_port: 8008,
      cpus: '500m',
      memory: '2GiB',
      postgresql_conf: { wal_level: 'logical', track_commit_timestamp: 'on', max_connections: 300, shared_preload_libraries: 'pg_stat_statements', log_connections: true },
      pg_hba_conf: ['# comment', '', 'local all all peer', 'hostssl app app 10.0.0.0/8 scram-sha-256'],
      pg_ident_conf: ['map alice app'],
      database_users: [
        { username: 'admin', password: 'secret', db_owner: true, attributes: ['login', 'CREATEDB', 'NOSUPERUSER'], roles: ['pg_read_all_data'] },
        { username: 'app', password: 'x' },
      ],
      services: [],
      nodes: [
        { name: 'n1', host_ids: ['host-1', 'host-2'], cpus: '2', memory: '512M', postgresql_conf: { work_mem: '8MB' } },
        { name: 'n2', host_ids: ['host-3'], port: 5433, cpus: '0.5', pg_hba_conf: ['host all all ::1/128 trust'] },
      ],
    };
    expect(validateSpec(spec, true)).toEqual([]);
  });

  it('every spelling Postgres accepts for the settings logical replication needs', () => {
    for (const track of [true, 'ON', 'yes', '1']) {
      expect(validateSpec(withSpec({ postgresql_conf: { wal_level: 'LOGICAL', track_commit_timestamp: track } }), true)).toEqual([]);
    }
  });

  it('source_node when updating an existing database', () => {
    const spec = withSpec({ nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-2'], source_node: 'n1' }] });
    expect(validateSpec(spec, false)).toEqual([]);
  });
});
