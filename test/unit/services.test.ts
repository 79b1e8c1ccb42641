import { describe, expect, it } from 'vitest';
import type { DatabaseSpec, ServiceSpec } from '../../api/schemas/database-spec.js';
import { servicePasswords } from '../../api/spec-admission.js';
import { mcpConfig } from '../../activities/services/mcp-config.js';
import { postgrestConfig } from '../../activities/services/postgrest.js';
import { poolerIni, poolerNode, poolerSettings, poolerUserlist } from '../../activities/services/pgbouncer.js';
import { serviceContainerOptions, serviceImage } from '../../activities/services/service-instances.js';
import { serviceBoot } from '../../activities/services/service-secrets.js';
import { scramVerifier } from '../../platform/scram.js';
import { planInstances } from '../../workflows/model/instances.js';
import { planConverge, planLines, planRemoveAll } from '../../workflows/model/planner.js';
import { redactSpec } from '../../workflows/model/redact.js';
import { bootstrapKeyIssues, isSecretConfigKey, keepServiceSecrets, validateServices, planServiceInstances, serviceTargets, sessionAttrs } from '../../workflows/model/services.js';
import { planUpdate } from '../../workflows/model/update-planner.js';

const mcp = (patch: Partial<ServiceSpec> = {}): ServiceSpec => ({
  service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1', 'host-3'], connect_as: 'app',
  config: { allow_writes: false, init_token: 'tok', llm_enabled: true, llm_provider: 'anthropic', llm_model: 'm', anthropic_api_key: 'sk-1', nested: [{ api_key: 'x', keep: 1 }] }, ...patch,
});
const spec = (services: ServiceSpec[] = [mcp()]): DatabaseSpec => ({
  database_name: 'app', database_users: [{ username: 'app', password: 'pw' }],
  nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'] }], services,
});

describe('service instances and their plan', () => {
  it('one instance per host, named after the database, service and host', () => {
    expect(planServiceInstances('db', spec()).map((s) => [s.serviceInstanceId, s.hostId])).toEqual([['db-mcp-host-1', 'host-1'], ['db-mcp-host-3', 'host-3']]);
  });

  it('a create runs the services last: made, then waited for; a database without services plans as before', () => {
    const lines = planLines(planConverge('db', spec()));
    expect(lines.at(-2)).toBe('phase 12: creating or updating service mcp on host-1; creating or updating service mcp on host-3');
    expect(lines.at(-1)).toContain('waiting for service mcp on host-1 to be healthy');
    expect(planLines(planConverge('db', spec([])))).toEqual(planLines(planConverge('db', { ...spec(), services: undefined })));
  });

  it('an update removes the instances no longer in the spec and keeps the others', () => {
    const layout = { joined: ['n1', 'n2'], instances: planInstances('db', spec()).map((i) => ({ instanceId: i.instanceId, hostId: i.hostId, nodeName: i.nodeName })), serviceInstances: [{ serviceId: 'mcp', hostId: 'host-1' }, { serviceId: 'mcp', hostId: 'host-3' }, { serviceId: 'old', hostId: 'host-2' }] };
    const steps = planUpdate('db', layout, spec([mcp({ host_ids: ['host-1'] })])).waves.flat();
    expect(steps.filter((s) => s.kind === 'removeService')).toEqual([{ kind: 'removeService', serviceId: 'mcp', hostId: 'host-3' }, { kind: 'removeService', serviceId: 'old', hostId: 'host-2' }]);
    expect(steps.filter((s) => s.kind === 'service')).toEqual([{ kind: 'service', hostId: 'host-1', serviceId: 'mcp' }]);
    // a layout recorded before services existed (replayed histories) plans no service step
    const { serviceInstances: _s, ...old } = layout;
    expect(planUpdate('db', old, { ...spec(), services: undefined }).waves.flat().some((s) => s.kind.includes('ervice'))).toBe(false);
  });

  it('deleting the database removes its services first', () => {
    const plan = planRemoveAll([{ instanceId: 'i1', hostId: 'host-1', nodeName: 'n1' }], [{ serviceId: 'mcp', hostId: 'host-3' }]);
    expect(plan.waves[0]).toEqual([{ kind: 'removeService', serviceId: 'mcp', hostId: 'host-3' }]);
    expect(plan.waves.at(-1)).toEqual([{ kind: 'removeNetwork', hostId: 'host-1' }, { kind: 'removeNetwork', hostId: 'host-3' }]);
  });
});

describe('config secrets', () => {
  it('recognises the reference\'s secret keys', () => {
    for (const k of ['token', 'init_token', 'anthropic_api_key', 'jwt_secret', 'Password', 'init_users', 'kb_embedding_api_key', 'aws_access_key']) expect(isSecretConfigKey(k), k).toBe(true);
    for (const k of ['allow_writes', 'llm_model', 'tokens_budget', 'db_anon_role']) expect(isSecretConfigKey(k), k).toBe(false);
  });

  it('are never shown, nested ones included', () => {
    expect(redactSpec(spec()).services![0]!.config).toEqual({ allow_writes: false, llm_enabled: true, llm_provider: 'anthropic', llm_model: 'm', nested: [{ keep: 1 }] });
  });

  it('an update that omits one keeps it (init_token too, for instances added later); sending init_token again is refused', () => {
    const [kept] = keepServiceSecrets([mcp({ config: { allow_writes: true } })], [mcp()])!;
    expect(kept!.config).toEqual({ allow_writes: true, init_token: 'tok', anthropic_api_key: 'sk-1' });
    expect(bootstrapKeyIssues([mcp()], [mcp()])).toEqual([{ path: 'services[0].config', message: 'init_token is only accepted when the service is created' }]);
    expect(bootstrapKeyIssues([mcp({ service_id: 'new' })], [mcp()])).toEqual([]);
    const [changed] = keepServiceSecrets([mcp({ config: { anthropic_api_key: 'sk-2' } })], [mcp()])!;
    expect(changed!.config).toEqual({ anthropic_api_key: 'sk-2', init_token: 'tok' });
  });
});

describe('where a service connects', () => {
  it('target nodes default to every node, the local node first and the local instance first', () => {
    const s = spec();
    const order = (host: string) => serviceTargets(s, planInstances('db', s), mcp(), host).map((i) => `${i.nodeName}@${i.hostId}`);
    expect(order('host-2')).toEqual(['n1@host-2', 'n1@host-1', 'n2@host-2']);
    expect(order('host-3')).toEqual(['n1@host-1', 'n1@host-2', 'n2@host-2']);
    expect(serviceTargets(s, planInstances('db', s), mcp({ database_connection: { target_nodes: ['n2'] } }), 'host-1').map((i) => i.nodeName)).toEqual(['n2']);
  });

  it('target_session_attrs: explicit, else primary for MCP with writes, prefer-standby without, read-write for PostgREST', () => {
    expect(sessionAttrs(mcp())).toBe('prefer-standby');
    expect(sessionAttrs(mcp({ config: { allow_writes: true } }))).toBe('primary');
    expect(sessionAttrs(mcp({ database_connection: { target_session_attrs: 'any' } }))).toBe('any');
    expect(sessionAttrs(mcp({ service_type: 'postgrest' }))).toBe('read-write');
    expect(sessionAttrs(mcp({ service_type: 'rag' }))).toBe('prefer-standby');
  });

  it('the MCP config carries the tool toggles and the writes setting', () => {
    const c = mcpConfig(mcp({ config: { allow_writes: true, disable_execute_explain: true, pool_max_conns: 7 } }), { dbname: 'app', user: 'app', password: 'pw', hosts: [{ host: 'h', port: 5432 }] });
    expect(c.database).toMatchObject({ allow_writes: true, pool_max_conns: 7, target_session_attrs: 'primary' });
    expect(c.tools).toEqual({ query_database: true, get_schema_info: true, execute_explain: false, count_rows: true });
  });
});

describe('PostgREST configuration', () => {
  it('a multi-host db-uri with target_session_attrs, and the config keys with their defaults', () => {
    const s = mcp({ service_type: 'postgrest', config: { db_anon_role: 'web_anon', db_schemas: 'api, public', jwt_secret: 'x'.repeat(32), max_rows: 50 } });
    const conf = postgrestConfig(s, { dbname: 'app', user: 'auth', password: 'p@ss"w', hosts: [{ host: 'i1', port: 5432 }, { host: 'i2', port: 5432 }] });
    expect(conf).toContain('db-uri = "postgresql://auth:p%40ss%22w@i1:5432,i2:5432/app?target_session_attrs=read-write"');
    expect(conf).toContain('db-schemas = "api,public"');
    expect(conf).toContain('db-anon-role = "web_anon"');
    expect(conf).toContain('db-pool = 10');
    expect(conf).toContain('db-max-rows = 50');
    expect(conf).toContain(`jwt-secret = "${'x'.repeat(32)}"`);
    expect(conf).toContain('jwt-role-claim-key = ".role"');
  });
});

describe('the pgbouncer pooler', () => {
  const pool = (patch: Partial<ServiceSpec> = {}): ServiceSpec => ({ service_id: 'pool', service_type: 'pgbouncer', version: 'latest', host_ids: ['host-2'], connect_as: 'app', ...patch });
  it('pools the primary of its node; its identity leaves the primary out, so a move only reloads it', () => {
    const s = spec([pool()]);
    expect(poolerNode({ spec: s, instances: planInstances('db', s) }, pool(), 'host-2')).toBe('n1');
    expect(poolerNode({ spec: s, instances: planInstances('db', s) }, pool({ database_connection: { target_nodes: ['n2'] } }), 'host-2')).toBe('n2');
    const a = poolerIni(pool(), 'app', { host: 'db-n1-689qacsi', port: 5432 });
    expect(a).toContain("app = host='db-n1-689qacsi' port=5432 dbname='app'");
    expect(a).toContain('pool_mode = transaction');
    expect(a).toContain('listen_port = 8080');
    expect(poolerIni(pool(), 'app', { host: 'other', port: 5432 })).toContain(poolerSettings(pool()));
    expect(poolerUserlist('app', 'p"w')).toBe('"app" "p""w"\n');
    expect(sessionAttrs(pool())).toBe('primary');
  });
  it('validates its config and its one node', () => {
    const issues: { path: string; message: string }[] = [];
    validateServices('db', spec([pool({ config: { pool_mode: 'statement', colour: 1 }, database_connection: { target_nodes: ['n1', 'n2'], target_session_attrs: 'standby' } })]), issues);
    expect(issues.map((i) => i.message)).toEqual(expect.arrayContaining([
      'unknown config key "colour"', 'pool_mode must be one of session, transaction, got "statement"', 'a pgbouncer service pools one node: name at most one',
      'a pgbouncer service follows its node\'s primary: must be primary or read-write, got "standby"',
    ]));
  });
});

describe('versions, images and containers', () => {
  it('an unsupported version is named; PostgREST maps to an image that no registry here serves', () => {
    expect(serviceImage(mcp({ version: '99.99.99' }))).toEqual({ error: 'unsupported version "99.99.99" for service type mcp' });
    expect(serviceImage(mcp({ version: '1.0.0' }))).toMatch(/^pgcp\/mcp:[0-9a-f]{12}$/);
    expect(serviceImage(mcp({ service_type: 'postgrest', version: 'latest' }))).toBe('postgrest/postgrest:v12.2.12');
  });

  it('the container is deterministic, labelled, on the database network, and changes with its config', () => {
    const input = { container: 'db-svc-mcp-689qacsi', serviceInstanceId: 'db-mcp-host-1', databaseId: 'db', serviceId: 'mcp', hostId: 'host-1', namespace: 'ns', image: 'img', filesDir: '/d', hostAddress: '127.0.0.1', port: 8090, configVersion: 'aaaa', extraHosts: [], boot: serviceBoot('mcp') };
    const a = serviceContainerOptions(input);
    expect(a).toMatchObject({ name: 'db-svc-mcp-689qacsi', HostConfig: { NetworkMode: 'pgcp-db', Init: true, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8090' }] } } });
    expect(a.Labels).toMatchObject({ 'pgcp.database-id': 'db', 'pgcp.purpose': 'service', 'pgcp.namespace': 'ns', 'pgcp.service-id': 'mcp' });
    expect(serviceContainerOptions(input).Labels!['pgcp.spec-hash']).toBe(a.Labels!['pgcp.spec-hash']);
    expect(serviceContainerOptions({ ...input, configVersion: 'bbbb' }).Labels!['pgcp.spec-hash']).not.toBe(a.Labels!['pgcp.spec-hash']);
  });
});

describe('orchestrator_opts of a service (pgEdge §5.7)', () => {
  it('takes extra_labels, extra_networks and image; refuses extra_volumes, driver_opts and reserved labels, naming the field', () => {
    const issues: { path: string; message: string }[] = [];
    const opts = () => issues.filter((i) => i.path.includes('orchestrator_opts'));
    validateServices('db', spec([mcp({ orchestrator_opts: { swarm: { extra_labels: { team: 'a' }, extra_networks: [{ id: 'app-net', aliases: ['mcp'] }], image: 'my/mcp:1' } } })]), issues);
    expect(opts()).toEqual([]);
    validateServices('db', spec([mcp({
      orchestrator_opts: { swarm: { extra_volumes: [{ host_path: '/srv', destination_path: '/x' }], extra_networks: [{ id: 'n', driver_opts: { a: 'b' } }], extra_labels: { 'pgedge.x': 'y' } } },
    })]), issues);
    expect(opts().map((i) => i.path)).toEqual([
      'services[0].orchestrator_opts.swarm.extra_volumes', 'services[0].orchestrator_opts.swarm.extra_networks[0].driver_opts', 'services[0].orchestrator_opts.swarm.extra_labels[pgedge.x]',
    ]);
  });

  it('image replaces the version\'s; labels land on the container below the control plane\'s own; a change of networks makes it again', () => {
    expect(serviceImage(mcp({ version: '1.0.0', orchestrator_opts: { swarm: { image: 'my/mcp:2' } } }))).toBe('my/mcp:2');
    expect(serviceImage(mcp({ version: '1.0.0', orchestrator_opts: { swarm: { image: '' } } }))).toMatch(/^pgcp\/mcp:/);
    const input = { container: 'c', serviceInstanceId: 'db-mcp-host-1', databaseId: 'db', serviceId: 'mcp', hostId: 'host-1', namespace: 'ns', image: 'img', filesDir: null, hostAddress: '127.0.0.1', port: null, configVersion: 'aaaa', extraHosts: [], boot: serviceBoot('mcp') };
    const plain = serviceContainerOptions(input);
    const labelled = serviceContainerOptions({ ...input, swarm: { extra_labels: { team: 'a', 'pgcp.purpose': 'spoof' } } });
    expect(labelled.Labels).toMatchObject({ team: 'a', 'pgcp.purpose': 'service' });
    expect(labelled.Labels!['pgcp.spec-hash']).not.toBe(plain.Labels!['pgcp.spec-hash']);
    expect(serviceContainerOptions({ ...input, swarm: {} }).Labels!['pgcp.spec-hash']).toBe(plain.Labels!['pgcp.spec-hash']);
    expect(serviceContainerOptions({ ...input, swarm: { extra_networks: [{ id: 'n' }] } }).Labels!['pgcp.spec-hash']).not.toBe(plain.Labels!['pgcp.spec-hash']);
  });
});

describe('connect_as passwords', () => {
  it('the clear password given is kept; an omitted one is kept from before while the verifier matches', () => {
    expect(servicePasswords(spec())).toEqual({ passwords: { app: 'pw' }, issues: [] });
    const hashed = { ...spec(), database_users: [{ username: 'app', password: scramVerifier('pw') }] };
    expect(servicePasswords(hashed, { app: 'pw' })).toEqual({ passwords: { app: 'pw' }, issues: [] });
    expect(servicePasswords(hashed, { app: 'other' }).issues[0]!.path).toBe('services[0].connect_as');
    expect(servicePasswords(hashed).issues[0]!.message).toMatch(/must be given in clear/);
  });
});
