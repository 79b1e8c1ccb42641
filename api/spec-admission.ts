// What a spec goes through before anything is stored: its own rules (characters, identifiers, attributes, cron),
// the cluster's hosts and versions, then what depends on them — postgresql_conf against the GUCs of each node's
// Postgres major (shared_preload_libraries against its image's libraries), ports against the other databases on the same hosts and the control plane's own — and on update
// the merge with the stored spec and the immutable fields. Every failure is one invalid_input listing all.
import { CronExpressionParser } from 'cron-parser';
import { controlPlanePorts, type Config } from '../platform/config.js';
import { listDatabases } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { listHosts, listHostStatuses } from '../store/hosts.js';
import { validateGucs } from '../workflows/model/validate-gucs.js';
import { foreignPortIssues } from '../workflows/model/validate-ports.js';
import { gucCatalog, libraryCatalog } from './guc-catalog.js';
import { validatePreloadLibraries } from '../workflows/model/validate-preload.js';
import { sameRestoreConfig, validateNodeRestores, validateRestoreSource } from '../workflows/model/backup.js';
import { keepSecrets, mapRepositories, repositoriesAt, specRepositories } from '../workflows/model/backup-repository.js';
import { repositoryAdmissionIssues } from './repository-admission.js';
import { extraVolumesAt, volumeHeldRepositories } from '../workflows/model/orchestrator-opts.js';
import { postgresMajor } from '../workflows/model/instances.js';
import { populateDefaults, validateSpec, type SpecIssue } from '../workflows/model/validate-spec.js';
import type { DatabaseSpec } from './schemas/database-spec.js';
import { ApiError } from './errors.js';
import { scriptIssues } from './sql-scripts.js';
import { isScramVerifier, scramMatches, scramVerifier } from '../platform/scram.js';
import { bootstrapKeyIssues, keepServiceSecrets } from '../workflows/model/services.js';

/**
 * The clear password of every user a service connects as (a service logs in with it; elsewhere only the SCRAM
 * verifier is kept): given in this request, or kept from before while the user's verifier still matches it.
 * Kept sealed with the database's secrets.
 */
export function servicePasswords(spec: DatabaseSpec, stored: Record<string, string> = {}): { passwords: Record<string, string>; issues: SpecIssue[] } {
  const passwords: Record<string, string> = {};
  const issues: SpecIssue[] = [];
  (spec.services ?? []).forEach((s, i) => {
    const user = (spec.database_users ?? []).find((u) => u.username === s.connect_as);
    if (!user || s.connect_as in passwords) return;
    const p = user.password;
    if (p !== undefined && !isScramVerifier(p)) passwords[s.connect_as] = p;
    else if (p !== undefined && stored[s.connect_as] !== undefined && scramMatches(stored[s.connect_as]!, p)) passwords[s.connect_as] = stored[s.connect_as]!;
    else issues.push({ path: `services[${i}].connect_as`, message: `the password of database user "${s.connect_as}" must be given in clear in this request: the service logs in with it` });
  });
  return { passwords, issues };
}

export function issuesError(issues: SpecIssue[]): ApiError {
  return new ApiError('invalid_input', issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
}

/** Versions every referenced host runs (from their heartbeats), oldest first. */
async function commonVersions(store: Store, hostIds: string[]): Promise<string[]> {
  const statuses = await listHostStatuses(store);
  const perHost = hostIds.map((h) => (statuses.get(h)?.details.supportedVersions ?? []).map((v) => v.postgres_version));
  const [first = [], ...rest] = perHost;
  return first.filter((v) => rest.every((vs) => vs.includes(v))).sort((a, b) => Number(postgresMajor(a)) - Number(postgresMajor(b)));
}

/**
 * Backup schedules' cron expressions (UTC): five fields, as Temporal reads them (cron-parser would take a sixth, for
 * seconds), then parsed by cron-parser (kept out of the workflow bundle).
 */
function scheduleIssues(spec: DatabaseSpec): SpecIssue[] {
  const out: SpecIssue[] = [];
  const check = (config: DatabaseSpec['backup_config'], at: string) => (config?.schedules ?? []).forEach((sch, i) => {
    const fields = sch.cron_expression.trim().split(/\s+/).filter(Boolean).length;
    if (fields !== 5) {
      out.push({ path: `${at}backup_config.schedules[${i}].cron_expression`, message: `must have 5 fields (minute hour day-of-month month day-of-week), got ${fields}` });
      return;
    }
    try {
      CronExpressionParser.parse(sch.cron_expression, { tz: 'UTC' });
    } catch (err) {
      out.push({ path: `${at}backup_config.schedules[${i}].cron_expression`, message: `invalid cron expression "${sch.cron_expression}": ${(err as Error).message}` });
    }
  });
  check(spec.backup_config, '');
  spec.nodes.forEach((n, i) => check(n.backup_config, `nodes[${i}].`));
  return out;
}

export interface Admission { store: Store; config: Config }

/** The spec as it will be stored (defaults filled), or an invalid_input naming every problem. */
export async function admitSpec(deps: Admission, spec: DatabaseSpec, o: { creating: boolean; databaseId: string | undefined }): Promise<DatabaseSpec> {
  const { store, config } = deps;
  const own = [...validateSpec(spec, o.creating, { databaseId: o.databaseId }), ...scheduleIssues(spec), ...(await scriptIssues(spec))];
  if (own.length > 0) throw issuesError(own);
  // a database-level restore_config applies at creation and to the nodes an update adds: its paths are checked both times
  // a base_path inside an extra volume names a container directory: the volume's host_path is checked instead
  const held = volumeHeldRepositories(spec, repositoriesAt(spec));
  const repos = repositoriesAt(spec).map(({ repo, at }) => (held.has(at) ? { repo: { ...repo, base_path: undefined }, at } : { repo, at }));
  const restores = spec.restore_config ? [{ rc: spec.restore_config, at: 'restore_config' }] : [];
  const paths = await repositoryAdmissionIssues(deps, repos, restores, o.databaseId, extraVolumesAt(spec));
  if (paths.length > 0) throw issuesError(paths);
  const hostIds = (await listHosts(store)).map((h) => h.id);
  const referenced = [...new Set(spec.nodes.flatMap((n) => n.host_ids))].filter((h) => hostIds.includes(h));
  const { spec: filled, issues } = populateDefaults(spec, { hostIds, supportedVersions: await commonVersions(store, referenced), creating: o.creating });
  if (issues.length > 0) throw issuesError(issues);
  const others = (await listDatabases(store)).filter((d) => d.id !== o.databaseId);
  const placed = [...validateGucs(filled, gucCatalog), ...validatePreloadLibraries(filled, libraryCatalog), ...foreignPortIssues(filled, others, controlPlanePorts(config))];
  if (placed.length > 0) throw issuesError(placed);
  return filled;
}

/**
 * The spec with each user's password replaced by its SCRAM-SHA-256 verifier, so the clear password is kept nowhere:
 * not in the store, not in a workflow, not in the `ALTER ROLE` Postgres may log. A password that already is a
 * verifier is kept as given (Postgres takes it so too); one equal to the stored verifier's password keeps that
 * verifier (an update that repeats a password changes nothing).
 */
export function hashPasswords(spec: DatabaseSpec, stored?: DatabaseSpec): DatabaseSpec {
  if (!spec.database_users) return spec;
  const before = new Map((stored?.database_users ?? []).map((u) => [u.username, u.password]));
  return {
    ...spec,
    database_users: spec.database_users.map((u) => {
      if (u.password === undefined || isScramVerifier(u.password)) return u;
      const old = before.get(u.username);
      return { ...u, password: old !== undefined && isScramVerifier(old) && scramMatches(u.password, old) ? old : scramVerifier(u.password) };
    }),
  };
}

/**
 * An update names the whole desired spec. Omitted passwords, repository keys, versions and restore_configs keep their
 * stored values; a new database-level restore_config is how the nodes this update adds without a source_node start. The database name and an existing
 * node's major version cannot change (a new node with the new version replaces it); a new node's source must be an
 * existing node that stays; a node's host_ids may gain and lose hosts (replicas) but must keep one of its current
 * hosts. Ports, resources, orchestrator_opts and images of existing nodes change by making their containers again,
 * one at a time (workflows/runner/roll-node.ts).
 */
export function mergeUpdate(stored: DatabaseSpec, next: DatabaseSpec, databaseId: string): { spec: DatabaseSpec; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const storedUsers = new Map((stored.database_users ?? []).map((u) => [u.username, u]));
  // repository keys an update omits are the stored ones of the same repository (pgEdge §5.9)
  const known = specRepositories(stored);
  next = mapRepositories(next, (r) => keepSecrets(r, known));
  // A database-level restore_config applies to every node created without a source_node or a restore_config of its
  // own (pgEdge §5.1, "source node precedence"): on update, to the nodes it adds. The stored one sent again (as GET
  // shows it) applied when the database was created, and does nothing more.
  const fresh = next.restore_config && !sameRestoreConfig(next.restore_config, stored.restore_config) ? next.restore_config : undefined;
  const inherited = new Map<number, string>();
  const { restore_config: _sent, ...rest } = next;
  const spec: DatabaseSpec = {
    ...rest,
    // config secrets an update omits are the stored ones of the same service (pgEdge v0.11)
    ...(rest.services ? { services: keepServiceSecrets(rest.services, stored.services) } : {}),
    // Kept as stored: the database-level one is how the database was created (its instances mount its repository);
    // a fresh one reaches the nodes it applies to as theirs, and changes nothing of the running instances.
    ...(stored.restore_config ? { restore_config: stored.restore_config } : {}),
    postgres_version: next.postgres_version ?? stored.postgres_version,
    spock_version: next.spock_version ?? stored.spock_version,
    nodes: next.nodes.map((n, i) => {
      const old = stored.nodes.find((o) => o.name === n.name);
      if (!old && fresh && n.source_node === undefined && !n.restore_config) {
        inherited.set(i, n.name);
        n = { ...n, restore_config: fresh };
      }
      const kept = old?.restore_config && !n.restore_config ? { ...n, restore_config: old.restore_config } : n;
      return old?.postgres_version && !n.postgres_version ? { ...kept, postgres_version: old.postgres_version } : kept;
    }),
    ...(next.database_users
      ? { database_users: next.database_users.map((u) => (u.password === undefined && storedUsers.get(u.username)?.password !== undefined ? { ...u, password: storedUsers.get(u.username)!.password } : u)) }
      : {}),
  };
  if (spec.database_name !== stored.database_name) issues.push({ path: 'database_name', message: 'database name cannot be changed' });
  issues.push(...bootstrapKeyIssues(next.services, stored.services));
  const major = (s: DatabaseSpec, n: { postgres_version?: string }) => postgresMajor(n.postgres_version ?? s.postgres_version ?? '');
  spec.nodes.forEach((n, i) => {
    const old = stored.nodes.find((o) => o.name === n.name);
    if (!old) {
      const src = n.source_node;
      if (src !== undefined && (!stored.nodes.some((o) => o.name === src) || !spec.nodes.some((o) => o.name === src))) {
        issues.push({ path: `nodes[${i}].source_node`, message: `source node ${src} must be an existing node that stays in the spec` });
      }
      return;
    }
    // The same spec again (source_node included) is fine; a new source for a node that exists means nothing.
    if (n.source_node !== undefined && n.source_node !== old.source_node) issues.push({ path: `nodes[${i}].source_node`, message: 'source_node only applies when a node is added' });
    if (major(spec, n) !== major(stored, old)) issues.push({ path: `nodes[${i}].postgres_version`, message: `the major version of node ${n.name} cannot change (add a node with the new version instead)` });
    // Hosts added get replicas, hosts removed lose theirs; one must stay to carry the node's data.
    if (!n.host_ids.some((h) => old.host_ids.includes(h))) issues.push({ path: `nodes[${i}].host_ids`, message: `at least one of node ${n.name}'s current hosts (${old.host_ids.join(', ')}) must stay: its data lives there` });
  });
  if (!spec.nodes.some((n) => stored.nodes.some((o) => o.name === n.name))) {
    issues.push({ path: 'nodes', message: 'at least one existing node must stay: new nodes copy their data from one' });
  }
  if (fresh && inherited.size === 0) validateRestoreSource(fresh, issues);
  const start = issues.length;
  validateNodeRestores(databaseId, stored, spec, issues);
  // What an added node took from the database-level restore_config is named where the user wrote it.
  for (const issue of issues.slice(start)) {
    for (const [i, name] of inherited) {
      const at = `nodes[${i}].restore_config`;
      if (issue.path !== at && !issue.path.startsWith(`${at}.`)) continue;
      issue.path = `restore_config${issue.path.slice(at.length)}`;
      issue.message += ` (it applies to new node ${name}, which has neither a source_node nor a restore_config of its own)`;
    }
  }
  return { spec, issues };
}
