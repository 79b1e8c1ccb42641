// What a spec goes through before anything is stored: its own rules, the cluster's hosts and versions, and on
// update the merge with the stored spec and the immutable fields. Every failure is one invalid_input listing all.
import type { Store } from '../activities/store/db.js';
import { listHosts, listHostStatuses } from '../activities/store/hosts.js';
import { postgresMajor } from '../workflows/model/instances.js';
import { populateDefaults, validateSpec, type SpecIssue } from '../workflows/model/validate-spec.js';
import type { DatabaseSpec } from './schemas/database-spec.js';
import { ApiError } from './errors.js';

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

export async function admitSpec(store: Store, spec: DatabaseSpec, creating: boolean): Promise<DatabaseSpec> {
  const own = validateSpec(spec, creating);
  if (own.length > 0) throw issuesError(own);
  const hostIds = (await listHosts(store)).map((h) => h.id);
  const referenced = [...new Set(spec.nodes.flatMap((n) => n.host_ids))].filter((h) => hostIds.includes(h));
  const { spec: filled, issues } = populateDefaults(spec, { hostIds, supportedVersions: await commonVersions(store, referenced), creating });
  if (issues.length > 0) throw issuesError(issues);
  return filled;
}

/**
 * An update names the whole desired spec. Omitted secrets and versions keep their stored values; the database name
 * and an existing node's major version cannot change; what later capabilities will do (removing nodes, moving
 * hosts) is refused rather than half-done.
 */
export function mergeUpdate(stored: DatabaseSpec, next: DatabaseSpec): { spec: DatabaseSpec; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const storedUsers = new Map((stored.database_users ?? []).map((u) => [u.username, u]));
  const spec: DatabaseSpec = {
    ...next,
    postgres_version: next.postgres_version ?? stored.postgres_version,
    spock_version: next.spock_version ?? stored.spock_version,
    nodes: next.nodes.map((n) => {
      const old = stored.nodes.find((o) => o.name === n.name);
      return old?.postgres_version && !n.postgres_version ? { ...n, postgres_version: old.postgres_version } : n;
    }),
    ...(next.database_users
      ? { database_users: next.database_users.map((u) => (u.password === undefined && storedUsers.get(u.username)?.password !== undefined ? { ...u, password: storedUsers.get(u.username)!.password } : u)) }
      : {}),
  };
  if (spec.database_name !== stored.database_name) issues.push({ path: 'database_name', message: 'database name cannot be changed' });
  const major = (s: DatabaseSpec, n: { postgres_version?: string }) => postgresMajor(n.postgres_version ?? s.postgres_version ?? '');
  spec.nodes.forEach((n, i) => {
    const old = stored.nodes.find((o) => o.name === n.name);
    if (!old) { issues.push({ path: `nodes[${i}]`, message: 'adding a node is not supported by this control plane yet' }); return; }
    if (major(spec, n) !== major(stored, old)) issues.push({ path: `nodes[${i}].postgres_version`, message: `the major version of node ${n.name} cannot change (add a node with the new version instead)` });
    if (JSON.stringify(n.host_ids) !== JSON.stringify(old.host_ids)) issues.push({ path: `nodes[${i}].host_ids`, message: 'changing the hosts of a node is not supported by this control plane yet' });
  });
  for (const old of stored.nodes) {
    if (!spec.nodes.some((n) => n.name === old.name)) issues.push({ path: 'nodes', message: `removing node ${old.name} is not supported by this control plane yet` });
  }
  issues.push(...unsupportedChanges(stored, spec));
  return { spec, issues };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const configFields = ['postgresql_conf', 'pg_hba_conf', 'pg_ident_conf', 'port', 'patroni_port', 'cpus', 'memory'] as const;

/**
 * What an update cannot apply yet to running instances: configuration and resources (they need Patroni's reload or
 * a rolling restart), and user removals or changes of attributes, roles and ownership. Refused, never ignored.
 * New users and new passwords are applied.
 */
function unsupportedChanges(stored: DatabaseSpec, next: DatabaseSpec): SpecIssue[] {
  const out: SpecIssue[] = [];
  const later = (path: string, what: string) => out.push({ path, message: `changing ${what} of an existing database is not supported by this control plane yet` });
  for (const f of configFields) if (!same(stored[f], next[f])) later(f, f);
  next.nodes.forEach((n, i) => {
    const old = stored.nodes.find((o) => o.name === n.name);
    if (!old) return;
    for (const f of configFields) if (!same(old[f], n[f])) later(`nodes[${i}].${f}`, f);
  });
  const nextUsers = new Map((next.database_users ?? []).map((u, i) => [u.username, { u, i }]));
  for (const old of stored.database_users ?? []) {
    const found = nextUsers.get(old.username);
    if (!found) { out.push({ path: 'database_users', message: `removing user ${old.username} is not supported by this control plane yet` }); continue; }
    const { u, i } = found;
    if (!same(old.attributes, u.attributes) || !same(old.roles, u.roles) || !!old.db_owner !== !!u.db_owner) {
      later(`database_users[${i}]`, `the attributes, roles or ownership of user ${old.username}`);
    }
  }
  return out;
}
