// Pure: supporting services beside a database (pgEdge §5.7) — their instances (one per host of the service), names,
// versions, the checks of their spec and config per type, the secrets inside a config (never shown, kept when an
// update omits them), and where a service instance connects (target nodes, local first; target_session_attrs).
import { serviceSwarmIssues } from './orchestrator-opts.js';
import type { DatabaseSpec, ServiceSpec } from '../../api/schemas/database-spec.js';
import { hostHash } from './ids.js';
import type { InstancePlan } from './instances.js';

export interface SpecIssue { path: string; message: string }

export interface ServiceInstancePlan {
  /** pgEdge §6.3: `{database_id}-{service_id}-{host_id}`. */
  serviceInstanceId: string;
  serviceId: string;
  serviceType: ServiceSpec['service_type'];
  hostId: string;
  /** The container (and its host files' directory): deterministic, so every step can check before it acts. */
  container: string;
}

export const serviceIds = {
  instance: (databaseId: string, serviceId: string, hostId: string) => `${databaseId}-${serviceId}-${hostId}`,
  /** `svc` keeps it apart from instance containers (`{db}-{node}-{hash}`) whatever the service id. */
  container: (databaseId: string, serviceId: string, hostId: string) => `${databaseId}-svc-${serviceId}-${hostHash(hostId)}`,
};

/** The port every service listens on inside its container (published on the host as the service's `port`). */
export const serviceContainerPort = 8080;

export function planServiceInstances(databaseId: string, spec: Pick<DatabaseSpec, 'services'>): ServiceInstancePlan[] {
  return (spec.services ?? []).flatMap((s) => [...new Set(s.host_ids)].map((hostId) => ({
    serviceInstanceId: serviceIds.instance(databaseId, s.service_id, hostId),
    serviceId: s.service_id,
    serviceType: s.service_type,
    hostId,
    container: serviceIds.container(databaseId, s.service_id, hostId),
  })));
}

/**
 * Versions each service type runs here, and the image each maps to. MCP: the project's own server
 * (images/services/), built on every host by setup. PostgREST and RAG: the images pgEdge publishes, which no
 * registry here serves — their containers fail with "image not available".
 */
export const serviceVersions: Record<ServiceSpec['service_type'], Record<string, string>> = {
  mcp: { '1.0': 'mcp', '1.0.0': 'mcp', latest: 'mcp' },
  postgrest: { '12.2': 'postgrest/postgrest:v12.2.12', '12.2.12': 'postgrest/postgrest:v12.2.12', latest: 'postgrest/postgrest:v12.2.12' },
  rag: { '1.0': 'ghcr.io/pgedge/rag-server:1.0.0', '1.0.0': 'ghcr.io/pgedge/rag-server:1.0.0', latest: 'ghcr.io/pgedge/rag-server:1.0.0' },
  pgbouncer: { '1.24': 'pgbouncer', latest: 'pgbouncer' },
};

/** The image key of a service's version, or null: the version is not one this control plane runs. */
export function serviceImageKey(type: ServiceSpec['service_type'], version: string): string | null {
  return serviceVersions[type][version] ?? null;
}

// ---- secrets in config (pgEdge §6.1) -----------------------------------------------------------------------------

const secretParts = ['password', 'secret', 'api_key', 'apikey', 'api-key', 'credential', 'private_key', 'private-key', 'access_key', 'access-key', 'init_users'];

/** A config key whose value is never shown: `token`, `…_token`, or one naming a password, secret, key or credential. */
export function isSecretConfigKey(key: string): boolean {
  const k = key.toLowerCase();
  return k === 'token' || k.endsWith('_token') || secretParts.some((p) => k.includes(p));
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !isSecretConfigKey(k)).map(([k, v]) => [k, scrub(v)]));
  }
  return value;
}

/** The services without their config secrets (recursively, through nested objects and arrays). */
export function redactServices(services: ServiceSpec[]): ServiceSpec[] {
  return services.map((s) => (s.config ? { ...s, config: scrub(s.config) as Record<string, unknown> } : s));
}

/** Every secret value of the services' configs (to scrub from any text a tool printed). */
export function serviceSecretValues(services: ServiceSpec[] | undefined): string[] {
  const out: string[] = [];
  const walk = (v: unknown, secret: boolean) => {
    if (typeof v === 'string' && secret) out.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, secret));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, secret || isSecretConfigKey(k));
  };
  for (const s of services ?? []) walk(s.config ?? {}, false);
  return out;
}

/**
 * An update that omits a top-level secret of a service's config keeps the stored one (pgEdge v0.11), matched by
 * service_id and type. MCP's init_token / init_users (sent only at the service's creation) are kept too, so an
 * instance added later on another host gets the same HTTP auth.
 */
export function keepServiceSecrets(next: ServiceSpec[] | undefined, stored: ServiceSpec[] | undefined): ServiceSpec[] | undefined {
  if (!next) return next;
  return next.map((s) => {
    const old = (stored ?? []).find((o) => o.service_id === s.service_id && o.service_type === s.service_type);
    if (!old?.config) return s;
    const kept = Object.entries(old.config).filter(([k]) => isSecretConfigKey(k) && !(k in (s.config ?? {})));
    return kept.length ? { ...s, config: { ...(s.config ?? {}), ...Object.fromEntries(kept) } } : s;
  });
}

const bootstrapOnly = ['init_token', 'init_users'];

/** MCP's bootstrap keys sent again for a service that exists (pgEdge: refused; they apply at creation only). */
export function bootstrapKeyIssues(next: ServiceSpec[] | undefined, stored: ServiceSpec[] | undefined): SpecIssue[] {
  const out: SpecIssue[] = [];
  (next ?? []).forEach((s, i) => {
    if (s.service_type !== 'mcp' || !(stored ?? []).some((o) => o.service_id === s.service_id)) return;
    for (const k of bootstrapOnly) if (s.config?.[k] !== undefined) out.push({ path: `services[${i}].config`, message: `${k} is only accepted when the service is created` });
  });
  return out;
}

// ---- validation -------------------------------------------------------------------------------------------------

type Kind = 'string' | 'boolean' | 'number' | 'integer';
const kindOf = (v: unknown): Kind | null =>
  typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : null;

class ConfigCheck {
  constructor(readonly config: Record<string, unknown>, readonly at: string, readonly out: SpecIssue[]) {}
  has(k: string) { return this.config[k] !== undefined; }
  issue(message: string) { this.out.push({ path: this.at, message }); }
  /** The value when of the kind (and a non-empty string); else an issue and undefined. */
  get<T>(k: string, kind: Kind): T | undefined {
    const v = this.config[k];
    if (v === undefined) return undefined;
    const got = kindOf(v);
    const ok = kind === 'number' ? got === 'number' || got === 'integer' : got === kind;
    if (!ok) { this.issue(`${k} must be ${kind === 'integer' ? 'an integer' : `a ${kind}`}`); return undefined; }
    if (kind === 'string' && (v as string).length === 0) { this.issue(`${k} must not be empty`); return undefined; }
    return v as T;
  }
  unknown(allowed: readonly string[]) {
    for (const k of Object.keys(this.config)) if (!allowed.includes(k)) this.issue(`unknown config key "${k}"`);
  }
  required(k: string, why = '') { if (!this.has(k)) this.issue(`${k} is required${why}`); }
  absent(keys: string[], why: string) { for (const k of keys) if (this.has(k)) this.issue(`${k} is not allowed ${why}`); }
  oneOf(k: string, values: string[]) {
    const v = this.get<string>(k, 'string');
    if (v !== undefined && !values.includes(v)) this.issue(`${k} must be one of ${values.join(', ')}, got "${v}"`);
    return v;
  }
  positiveInt(k: string) {
    const v = this.get<number>(k, 'integer');
    if (v !== undefined && v <= 0) this.issue(`${k} must be greater than 0`);
  }
  intRange(k: string, min: number, max: number) {
    const v = this.get<number>(k, 'integer');
    if (v !== undefined && (v < min || v > max)) this.issue(`${k} must be between ${min} and ${max}`);
  }
}

const mcpTools = ['disable_query_database', 'disable_get_schema_info', 'disable_similarity_search', 'disable_execute_explain', 'disable_generate_embedding', 'disable_search_knowledgebase', 'disable_count_rows'];
const mcpKeys = [
  'llm_enabled', 'llm_provider', 'llm_model', 'anthropic_api_key', 'openai_api_key', 'ollama_url', 'llm_temperature', 'llm_max_tokens',
  'allow_writes', 'init_token', 'init_users', 'embedding_provider', 'embedding_model', 'embedding_api_key', 'pool_max_conns',
  ...mcpTools, 'kb_enabled', 'kb_embedding_provider', 'kb_embedding_model', 'kb_embedding_api_key', 'kb_database_host_path',
] as const;

function validateMcp(c: ConfigCheck, svc: ServiceSpec): void {
  c.unknown(mcpKeys);
  const llm = c.get<boolean>('llm_enabled', 'boolean') ?? false;
  const embedding = c.oneOf('embedding_provider', ['voyage', 'openai', 'ollama']);
  if (llm) {
    const provider = c.oneOf('llm_provider', ['anthropic', 'openai', 'ollama']);
    c.required('llm_provider');
    c.get('llm_model', 'string');
    c.required('llm_model');
    if (provider === 'anthropic') { c.get('anthropic_api_key', 'string'); c.required('anthropic_api_key', ' for llm_provider anthropic'); }
    if (provider === 'openai') { c.get('openai_api_key', 'string'); c.required('openai_api_key', ' for llm_provider openai'); }
    if (provider === 'ollama') { c.get('ollama_url', 'string'); c.required('ollama_url', ' for llm_provider ollama'); }
    const t = c.get<number>('llm_temperature', 'number');
    if (t !== undefined && (t < 0 || t > 2)) c.issue('llm_temperature must be between 0.0 and 2.0');
    c.positiveInt('llm_max_tokens');
  } else {
    c.absent(['llm_provider', 'llm_model', 'anthropic_api_key', 'openai_api_key', 'llm_temperature', 'llm_max_tokens'], 'when llm_enabled is false');
    if (c.has('ollama_url') && embedding !== 'ollama') c.issue('ollama_url is only allowed when llm_enabled is true or embedding_provider is ollama');
  }
  if (embedding !== undefined) {
    c.get('embedding_model', 'string');
    c.required('embedding_model', ' with embedding_provider');
    if (embedding === 'ollama') { c.get('ollama_url', 'string'); c.required('ollama_url', ' for embedding_provider ollama'); }
    else { c.get('embedding_api_key', 'string'); c.required('embedding_api_key', ` for embedding_provider ${embedding}`); }
  } else {
    c.absent(['embedding_model', 'embedding_api_key'], 'without embedding_provider');
  }
  const writes = c.get<boolean>('allow_writes', 'boolean') ?? false;
  const attrs = svc.database_connection?.target_session_attrs;
  if (writes && attrs !== undefined && attrs !== 'primary' && attrs !== 'read-write') {
    c.issue(`allow_writes requires database_connection.target_session_attrs primary or read-write, got "${attrs}"`);
  }
  c.get('init_token', 'string');
  if (c.has('init_users')) {
    const users = c.config.init_users;
    if (!Array.isArray(users) || users.length === 0) c.issue('init_users must be a non-empty list of {username, password}');
    else {
      const seen = new Set<string>();
      users.forEach((u, i) => {
        const ok = u && typeof u === 'object' && typeof (u as { username?: unknown }).username === 'string' && (u as { username: string }).username.length > 0
          && typeof (u as { password?: unknown }).password === 'string' && (u as { password: string }).password.length > 0
          && Object.keys(u as object).every((k) => k === 'username' || k === 'password');
        if (!ok) { c.issue(`init_users[${i}] must be {username, password} with non-empty strings`); return; }
        const name = (u as { username: string }).username;
        if (seen.has(name)) c.issue(`init_users[${i}]: duplicate username "${name}"`);
        seen.add(name);
      });
    }
  }
  c.positiveInt('pool_max_conns');
  for (const t of mcpTools) c.get(t, 'boolean');
  const kb = c.get<boolean>('kb_enabled', 'boolean') ?? false;
  if (kb) {
    const p = c.oneOf('kb_embedding_provider', ['voyage', 'openai', 'ollama']);
    if (p === 'ollama') c.issue('kb_embedding_provider ollama is not yet supported');
    c.required('kb_embedding_provider');
    c.get('kb_embedding_model', 'string');
    c.required('kb_embedding_model');
    c.get('kb_embedding_api_key', 'string');
    c.required('kb_embedding_api_key');
    const path = c.get<string>('kb_database_host_path', 'string');
    if (path !== undefined && (!path.startsWith('/') || path.split('/').some((s) => s === '.' || s === '..') || /\/\/|\/$/.test(path))) c.issue('kb_database_host_path must be an absolute, clean path');
    if (c.config.disable_search_knowledgebase === true) c.issue('kb_enabled cannot be combined with disable_search_knowledgebase');
  } else {
    c.absent(['kb_embedding_provider', 'kb_embedding_model', 'kb_embedding_api_key', 'kb_database_host_path'], 'when kb_enabled is false');
  }
}

const postgrestKeys = ['db_anon_role', 'db_schemas', 'db_pool', 'max_rows', 'jwt_secret', 'jwt_aud', 'jwt_role_claim_key', 'server_cors_allowed_origins'] as const;

function validatePostgrest(c: ConfigCheck): void {
  c.unknown(postgrestKeys);
  c.get('db_anon_role', 'string');
  c.required('db_anon_role');
  const schemas = c.get<string>('db_schemas', 'string');
  if (schemas !== undefined && schemas.split(',').some((s) => s.trim() === '')) c.issue('db_schemas must be a comma-separated list of schema names');
  c.intRange('db_pool', 1, 30);
  c.intRange('max_rows', 1, 10000);
  const jwt = c.get<string>('jwt_secret', 'string');
  if (jwt !== undefined && jwt.length < 32) c.issue('jwt_secret must be at least 32 characters');
  c.get('jwt_aud', 'string');
  c.get('jwt_role_claim_key', 'string');
  c.get('server_cors_allowed_origins', 'string');
}

/** The pooler pools one node's database on its primary. */
function validatePgbouncer(c: ConfigCheck, s: ServiceSpec, connAt: string): void {
  c.unknown(['pool_mode', 'default_pool_size', 'max_client_conn']);
  c.oneOf('pool_mode', ['session', 'transaction']);
  c.intRange('default_pool_size', 1, 1000);
  c.intRange('max_client_conn', 1, 100000);
  if ((s.database_connection?.target_nodes?.length ?? 0) > 1) c.out.push({ path: `${connAt}.target_nodes`, message: 'a pgbouncer service pools one node: name at most one' });
  const attrs = s.database_connection?.target_session_attrs;
  if (attrs !== undefined && attrs !== 'primary' && attrs !== 'read-write') c.out.push({ path: `${connAt}.target_session_attrs`, message: `a pgbouncer service follows its node's primary: must be primary or read-write, got "${attrs}"` });
}

function strictObject(v: unknown, at: string, keys: Record<string, Kind | 'object' | 'array'>, required: string[], out: SpecIssue[]): Record<string, unknown> | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) { out.push({ path: at, message: 'must be an object' }); return null; }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in keys)) out.push({ path: at, message: `unknown field "${k}"` });
  for (const k of required) if (o[k] === undefined) out.push({ path: at, message: `${k} is required` });
  for (const [k, kind] of Object.entries(keys)) {
    const x = o[k];
    if (x === undefined) continue;
    const got = Array.isArray(x) ? 'array' : x && typeof x === 'object' ? 'object' : kindOf(x);
    const ok = kind === 'number' ? got === 'number' || got === 'integer' : got === kind;
    if (!ok) out.push({ path: `${at}.${k}`, message: `must be ${kind === 'integer' || kind === 'object' || kind === 'array' ? 'an' : 'a'} ${kind}` });
    else if (kind === 'integer' && (x as number) <= 0) out.push({ path: `${at}.${k}`, message: 'must be greater than 0' });
    else if (kind === 'string' && (x as string).length === 0) out.push({ path: `${at}.${k}`, message: 'must not be empty' });
  }
  return o;
}

function validateLlm(v: unknown, at: string, providers: string[], out: SpecIssue[]): void {
  const o = strictObject(v, at, { provider: 'string', model: 'string', api_key: 'string', base_url: 'string' }, ['provider', 'model'], out);
  if (!o) return;
  if (typeof o.provider === 'string' && !providers.includes(o.provider)) out.push({ path: `${at}.provider`, message: `must be one of ${providers.join(', ')}, got "${o.provider}"` });
  if (o.provider !== 'ollama' && o.api_key === undefined) out.push({ path: at, message: 'api_key is required unless provider is ollama' });
}

function validateRag(c: ConfigCheck): void {
  c.unknown(['pipelines', 'defaults']);
  if (c.has('defaults')) strictObject(c.config.defaults, `${c.at}.defaults`, { token_budget: 'integer', top_n: 'integer' }, [], c.out);
  const pipelines = c.config.pipelines;
  if (!Array.isArray(pipelines) || pipelines.length === 0) { c.issue('pipelines is required: at least one pipeline'); return; }
  const names = new Set<string>();
  pipelines.forEach((p, i) => {
    const at = `${c.at}.pipelines[${i}]`;
    const o = strictObject(p, at, {
      name: 'string', description: 'string', tables: 'array', embedding_llm: 'object', rag_llm: 'object', token_budget: 'integer', top_n: 'integer',
      system_prompt: 'string', search: 'object', rerank: 'object', allow_include_sources: 'boolean',
    }, ['name', 'tables', 'embedding_llm', 'rag_llm'], c.out);
    if (!o) return;
    if (typeof o.name === 'string') {
      if (!/^[a-z0-9_][a-z0-9_-]*$/.test(o.name)) c.out.push({ path: `${at}.name`, message: `must match ^[a-z0-9_][a-z0-9_-]*$, got "${o.name}"` });
      if (names.has(o.name)) c.out.push({ path: `${at}.name`, message: `duplicate pipeline name "${o.name}"` });
      names.add(o.name);
    }
    if (Array.isArray(o.tables)) {
      if (o.tables.length === 0) c.out.push({ path: `${at}.tables`, message: 'at least one table is required' });
      o.tables.forEach((t, j) => strictObject(t, `${at}.tables[${j}]`, { table: 'string', text_column: 'string', vector_column: 'string', id_column: 'string' }, ['table', 'text_column', 'vector_column'], c.out));
    }
    if (o.embedding_llm !== undefined) validateLlm(o.embedding_llm, `${at}.embedding_llm`, ['anthropic', 'openai', 'voyage', 'ollama'], c.out);
    if (o.rag_llm !== undefined) validateLlm(o.rag_llm, `${at}.rag_llm`, ['anthropic', 'openai', 'ollama'], c.out);
    if (o.search !== undefined) {
      const s = strictObject(o.search, `${at}.search`, { hybrid_enabled: 'boolean', vector_weight: 'number' }, [], c.out);
      if (s && typeof s.vector_weight === 'number' && (s.vector_weight < 0 || s.vector_weight > 1)) c.out.push({ path: `${at}.search.vector_weight`, message: 'must be between 0.0 and 1.0' });
    }
  });
}

/**
 * The services' own rules: unique ids, hosts listed once, connect_as naming a database user, target nodes that
 * exist, config keys per type. (MCP's bootstrap keys sent again on update: bootstrapKeyIssues, on the request.)
 */
export function validateServices(databaseId: string | undefined, spec: DatabaseSpec, out: SpecIssue[]): void {
  const services = spec.services ?? [];
  const users = new Set((spec.database_users ?? []).map((u) => u.username));
  const nodes = new Set(spec.nodes.map((n) => n.name));
  const seen = new Set<string>();
  services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (seen.has(s.service_id)) out.push({ path: `${at}.service_id`, message: `duplicate service_id "${s.service_id}"` });
    seen.add(s.service_id);
    if (databaseId !== undefined && databaseId.length + s.service_id.length > 53) {
      out.push({ path: `${at}.service_id`, message: `the database id and service id together must be at most 53 characters, got ${databaseId.length + s.service_id.length}` });
    }
    s.host_ids.forEach((h, j) => {
      if (s.host_ids.indexOf(h) !== j) out.push({ path: `${at}.host_ids[${j}]`, message: `host "${h}" is listed twice in this service` });
    });
    if (!users.has(s.connect_as)) out.push({ path: `${at}.connect_as`, message: `connect_as "${s.connect_as}" does not match any database_users entry` });
    const targets = s.database_connection?.target_nodes ?? [];
    targets.forEach((n, j) => {
      if (!nodes.has(n)) out.push({ path: `${at}.database_connection.target_nodes[${j}]`, message: `node "${n}" is not in the spec` });
      if (targets.indexOf(n) !== j) out.push({ path: `${at}.database_connection.target_nodes[${j}]`, message: `node "${n}" is listed twice` });
    });
    serviceSwarmIssues(s.orchestrator_opts?.swarm, `${at}.orchestrator_opts.swarm`, out);
    const c = new ConfigCheck(s.config ?? {}, `${at}.config`, out);
    if (s.service_type === 'mcp') validateMcp(c, s);
    else if (s.service_type === 'postgrest') validatePostgrest(c);
    else if (s.service_type === 'pgbouncer') validatePgbouncer(c, s, `${at}.database_connection`);
    else validateRag(c);
  });
}

// ---- where a service instance connects ------------------------------------------------------------------------------

export type SessionAttrs = NonNullable<NonNullable<ServiceSpec['database_connection']>['target_session_attrs']>;

/** Explicit, else MCP: primary with allow_writes, else prefer-standby; PostgREST: read-write; RAG: prefer-standby; a pooler: primary. */
export function sessionAttrs(s: ServiceSpec): SessionAttrs {
  const explicit = s.database_connection?.target_session_attrs;
  if (explicit) return explicit;
  if (s.service_type === 'pgbouncer') return 'primary';
  if (s.service_type === 'mcp') return s.config?.allow_writes === true ? 'primary' : 'prefer-standby';
  return s.service_type === 'postgrest' ? 'read-write' : 'prefer-standby';
}

/**
 * The database instances a service instance on `hostId` connects to, in order: the target nodes (default: every
 * node, the node with an instance on this host first), and within a node the instance on this host first.
 */
export function serviceTargets(spec: DatabaseSpec, instances: InstancePlan[], s: ServiceSpec, hostId: string): InstancePlan[] {
  let nodes = s.database_connection?.target_nodes ?? spec.nodes.map((n) => n.name);
  if (!s.database_connection?.target_nodes) {
    const local = nodes.filter((n) => instances.some((i) => i.nodeName === n && i.hostId === hostId));
    nodes = [...local, ...nodes.filter((n) => !local.includes(n))];
  }
  return nodes.flatMap((n) => {
    const mine = instances.filter((i) => i.nodeName === n);
    return [...mine.filter((i) => i.hostId === hostId), ...mine.filter((i) => i.hostId !== hostId)];
  });
}
