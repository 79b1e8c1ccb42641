// Cross-field rules of a DatabaseSpec and its defaults (pgEdge §5). Pure: returns `{path, message}` issues that the
// API renders as one invalid_input error, one "path: message" line each.
import { validateBackupConfig, validateRestoreSource } from './backup.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { parseCpus, parseMemory } from './resources.js';
import { postgresMajor } from './instances.js';
import { specialRoleNames, specTextIssues } from './validate-text.js';
import { duplicatePortIssues } from './validate-ports.js';
import { validateServices } from './services.js';
import { orchestratorOptsIssues } from './orchestrator-opts.js';

export interface SpecIssue { path: string; message: string }

export interface SpecContext {
  /** Hosts registered in the cluster. */
  hostIds: string[];
  /** Postgres versions every host can run, oldest first ("15.14", "17.6"…). */
  supportedVersions: string[];
  /** Set on create: fields that only matter when adding a node are refused then. */
  creating: boolean;
}

export const allowedAttributes = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'INHERIT', 'LOGIN', 'REPLICATION', 'BYPASSRLS'].flatMap((a) => [a, `NO${a}`]);

/** Settings the control plane owns: Patroni or the replication layer would override or break on them. */
const managedConf = ['hba_file', 'ident_file', 'listen_addresses', 'port', 'data_directory', 'config_file', 'unix_socket_directories'];
/** Settings Patroni owns, with why: a user's value would be overwritten, or would stop commits. */
const patroniConf: Record<string, string> = {
  synchronous_standby_names: 'Patroni names the synchronous standby of a node with replicas (synchronous mode), and a standby named on a node without one stops every commit',
};
/** Values logical replication needs, with every spelling Postgres accepts for them. */
const requiredConf: Record<string, { show: string; accepted: string[] }> = {
  wal_level: { show: 'logical', accepted: ['logical'] },
  track_commit_timestamp: { show: 'on', accepted: ['on', 'true', 'yes', '1', 't', 'y'] },
};
const hbaTypes = new Set(['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc']);

/** The superuser, Postgres's own prefix and this control plane's, and the names Postgres reads as something else. */
const reservedUsers = (u: string) => u === 'postgres' || u.startsWith('pg_') || u.startsWith('pgcp_') || specialRoleNames.includes(u.toLowerCase());

function tokens(line: string): string[] {
  return line.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
}

/** A pg_hba line is a comment, blank, or TYPE DATABASE USER [ADDRESS [MASK]] METHOD [OPTIONS]. */
export function hbaLineError(line: string): string | null {
  const t = tokens(line);
  if (t.length === 0) return null;
  const type = t[0]!.toLowerCase();
  if (!hbaTypes.has(type)) return `unknown connection type "${t[0]}"`;
  const min = type === 'local' ? 4 : 5;
  return t.length < min ? `expected at least ${min} fields, got ${t.length}` : null;
}

function validateConf(conf: Record<string, unknown> | undefined, at: string, out: SpecIssue[]): void {
  for (const [key, value] of Object.entries(conf ?? {})) {
    const k = key.toLowerCase();
    const path = `${at}[${key}]`;
    if (managedConf.includes(k)) out.push({ path, message: `"${key}" is not allowed: it is managed by the control plane` });
    else if (patroniConf[k]) out.push({ path, message: `"${key}" is not allowed: ${patroniConf[k]}` });
    else if (requiredConf[k] && !requiredConf[k].accepted.includes(String(value).trim().toLowerCase())) out.push({ path, message: `must be ${requiredConf[k].show}: logical replication needs it` });
    else if (k === 'shared_preload_libraries' && typeof value !== 'string') out.push({ path, message: 'must be a string' });
    else if (value !== null && typeof value === 'object') out.push({ path, message: 'must be a string, number or boolean' });
  }
}

function validateLines(lines: string[] | undefined, at: string, check: (l: string) => string | null, out: SpecIssue[]): void {
  (lines ?? []).forEach((line, i) => {
    const err = check(line);
    if (err) out.push({ path: `${at}[${i}]`, message: err });
  });
}

const identLineError = (line: string) => {
  const n = tokens(line).length;
  return n === 0 || n === 3 ? null : `expected MAP SYSTEM-USER PG-USER, got ${n} fields`;
};

function validateResources(cpus: string | undefined, memory: string | undefined, at: string, out: SpecIssue[]): void {
  if (cpus !== undefined && (parseCpus(cpus) ?? 0) < 1_000_000) out.push({ path: `${at}cpus`, message: 'must be at least 1m' });
  if (memory !== undefined && parseMemory(memory) === null) out.push({ path: `${at}memory`, message: `cannot parse "${memory}" as a size, e.g. 512MiB or 2GB` });
}

/** backup_config's own checks, and fields that only apply when a node is added. */
function refuseLater(spec: DatabaseSpec, creating: boolean, out: SpecIssue[]): void {
  validateBackupConfig(spec.backup_config, '', out);
  // A database created from a backup; on update the stored one stays (mergeUpdate refuses a different one).
  if (spec.restore_config !== undefined && creating) validateRestoreSource(spec.restore_config, out);
  spec.nodes.forEach((n, i) => {
    validateBackupConfig(n.backup_config, `nodes[${i}].`, out);
    if (creating && n.restore_config !== undefined) {
      out.push({ path: `nodes[${i}].restore_config`, message: 'a node-level restore_config applies when a node is added to an existing database; a new database restores from restore_config at database level' });
    }
    if (creating && n.source_node !== undefined) out.push({ path: `nodes[${i}].source_node`, message: 'source_node only applies when a node is added to an existing database' });
  });
}

function validateUsers(spec: DatabaseSpec, out: SpecIssue[]): void {
  const users = spec.database_users ?? [];
  const seen = new Set<string>();
  users.forEach((u, i) => {
    if (seen.has(u.username)) out.push({ path: `database_users[${i}].username`, message: `duplicate username "${u.username}"` });
    seen.add(u.username);
    if (reservedUsers(u.username)) out.push({ path: `database_users[${i}].username`, message: `"${u.username}" is reserved` });
    const listed = (u.attributes ?? []).map((a) => a.toUpperCase());
    (u.attributes ?? []).forEach((a, j) => {
      if (!allowedAttributes.includes(a.toUpperCase())) out.push({ path: `database_users[${i}].attributes[${j}]`, message: `unsupported attribute "${a}"; allowed: ${allowedAttributes.join(', ')}` });
      else if (!a.toUpperCase().startsWith('NO') && listed.includes(`NO${a.toUpperCase()}`)) {
        out.push({ path: `database_users[${i}].attributes`, message: `"${a.toUpperCase()}" and "NO${a.toUpperCase()}" contradict each other` });
      }
    });
  });
  const owners = users.flatMap((u, i) => (u.db_owner ? [`database_users[${i}]`] : []));
  if (owners.length > 1) out.push({ path: 'database_users', message: `only one user can be db_owner, got ${owners.join(', ')}` });
}

/** The spec's own rules, before any host is consulted. */
export function validateSpec(spec: DatabaseSpec, creating: boolean, o: { databaseId?: string } = {}): SpecIssue[] {
  const out: SpecIssue[] = specTextIssues(spec);
  if (['postgres', 'template0', 'template1'].includes(spec.database_name)) out.push({ path: 'database_name', message: `"${spec.database_name}" is reserved` });
  const names = new Set<string>();
  spec.nodes.forEach((n, i) => {
    if (!/^n[0-9]+$/.test(n.name)) out.push({ path: `nodes[${i}].name`, message: `node names are n followed by digits, got "${n.name}"` });
    if (names.has(n.name)) out.push({ path: `nodes[${i}].name`, message: `duplicate node name "${n.name}"` });
    names.add(n.name);
    n.host_ids.forEach((h, j) => {
      if (n.host_ids.indexOf(h) !== j) out.push({ path: `nodes[${i}].host_ids[${j}]`, message: `host "${h}" is listed twice in this node` });
    });
    validateConf(n.postgresql_conf, `nodes[${i}].postgresql_conf`, out);
    validateLines(n.pg_hba_conf, `nodes[${i}].pg_hba_conf`, hbaLineError, out);
    validateLines(n.pg_ident_conf, `nodes[${i}].pg_ident_conf`, identLineError, out);
    validateResources(n.cpus, n.memory, `nodes[${i}].`, out);
  });
  validateConf(spec.postgresql_conf, 'postgresql_conf', out);
  validateLines(spec.pg_hba_conf, 'pg_hba_conf', hbaLineError, out);
  validateLines(spec.pg_ident_conf, 'pg_ident_conf', identLineError, out);
  validateResources(spec.cpus, spec.memory, '', out);
  out.push(...duplicatePortIssues(spec));
  validateUsers(spec, out);
  validateServices(o.databaseId, spec, out);
  (spec.services ?? []).forEach((sv, i) => validateResources(sv.cpus, sv.memory, `services[${i}].`, out));
  out.push(...orchestratorOptsIssues(spec));
  refuseLater(spec, creating, out);
  return out;
}

/** Fills versions from the hosts and checks them against what the hosts run (pgEdge PopulateSpecDefaults). */
export function populateDefaults(spec: DatabaseSpec, ctx: SpecContext): { spec: DatabaseSpec; issues: SpecIssue[] } {
  const prefix = 'failed to validate database spec: ';
  const referenced = [...new Set([...spec.nodes.flatMap((n) => n.host_ids), ...(spec.services ?? []).flatMap((s) => s.host_ids)])];
  const unknown = referenced.filter((h) => !ctx.hostIds.includes(h));
  if (unknown.length > 0) return { spec, issues: [{ path: '', message: `${prefix}got invalid host ids: ${unknown.join(', ')}` }] };
  const newest = ctx.supportedVersions[ctx.supportedVersions.length - 1];
  if (!newest) return { spec, issues: [{ path: '', message: `${prefix}no host has a Postgres image: run npm run setup` }] };
  const filled: DatabaseSpec = { ...spec, postgres_version: spec.postgres_version ?? newest, spock_version: spec.spock_version ?? '5' };
  const issues: SpecIssue[] = [];
  const supportedMajors = ctx.supportedVersions.map(postgresMajor);
  for (const n of filled.nodes) {
    const version = n.postgres_version ?? filled.postgres_version!;
    if (!supportedMajors.includes(postgresMajor(version))) {
      issues.push({ path: '', message: `${prefix}host ${n.host_ids[0]} does not support version combination: postgres=${version}, spock=${filled.spock_version}` });
    }
  }
  return { spec: filled, issues };
}
