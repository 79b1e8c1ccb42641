// Pure SQL for roles: copying roles between nodes (a joining node needs every role the copied schema names), and
// converging the spec's database_users (attributes, roles, removal). Roles are per Postgres cluster, never
// replicated, so every node converges its own.
import pg from 'pg';
import type { DatabaseUserSpec } from '../../api/schemas/database-spec.js';

const ident = (s: string) => pg.escapeIdentifier(s);

export interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  rolpassword: string | null;
  rolvaliduntil: string | null;
  member_of: string[];
}

const flags: [keyof RoleRow, string][] = [
  ['rolsuper', 'SUPERUSER'], ['rolinherit', 'INHERIT'], ['rolcreaterole', 'CREATEROLE'], ['rolcreatedb', 'CREATEDB'],
  ['rolcanlogin', 'LOGIN'], ['rolreplication', 'REPLICATION'], ['rolbypassrls', 'BYPASSRLS'],
];

/** CREATE ROLE for each missing role (same attributes, same password hash), then their memberships. */
export function copyRoleStatements(missing: RoleRow[], all: RoleRow[]): string[] {
  const known = new Set(all.map((r) => r.rolname));
  const creates = missing.map((r) => {
    const attrs = flags.map(([k, name]) => (r[k] ? name : `NO${name}`));
    attrs.push(`CONNECTION LIMIT ${Number(r.rolconnlimit)}`);
    if (r.rolpassword) attrs.push(`PASSWORD ${pg.escapeLiteral(r.rolpassword)}`); // a SCRAM verifier stays one
    if (r.rolvaliduntil) attrs.push(`VALID UNTIL ${pg.escapeLiteral(r.rolvaliduntil)}`);
    return `CREATE ROLE ${ident(r.rolname)} WITH ${attrs.join(' ')}`;
  });
  const grants = missing.flatMap((r) => r.member_of.filter((g) => known.has(g) || g.startsWith('pg_')).map((g) => `GRANT ${ident(g)} TO ${ident(r.rolname)}`));
  return [...creates, ...grants];
}

/** Attributes a spec user may list; the ones not listed are turned off, so removing one from the list applies. */
const managedAttributes = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'LOGIN', 'REPLICATION', 'BYPASSRLS'];

/** Marks roles the control plane manages, so a user dropped from the spec is dropped from the nodes. */
export const managedRoleComment = 'managed by pgcp (database_users)';

/** Statements converging one role to its spec: attributes and password, role grants and revocations. */
export function roleStatements(user: DatabaseUserSpec, current: { exists: boolean; memberOf: string[] }): string[] {
  const out: string[] = [];
  const name = ident(user.username);
  if (!current.exists) out.push(`CREATE ROLE ${name}`);
  const listed = new Set((user.attributes ?? []).map((a) => a.toUpperCase()));
  const attrs = [...listed, ...managedAttributes.filter((a) => !listed.has(a) && !listed.has(`NO${a}`)).map((a) => `NO${a}`)];
  const withClause = [...attrs, ...(user.password !== undefined ? [`PASSWORD ${pg.escapeLiteral(user.password)}`] : [])];
  out.push(`ALTER ROLE ${name} WITH ${withClause.join(' ')}`);
  out.push(`COMMENT ON ROLE ${name} IS ${pg.escapeLiteral(managedRoleComment)}`);
  const wanted = new Set(user.roles ?? []);
  for (const role of wanted) if (!current.memberOf.includes(role)) out.push(`GRANT ${ident(role)} TO ${name}`);
  for (const role of current.memberOf) if (!wanted.has(role)) out.push(`REVOKE ${ident(role)} FROM ${name}`);
  return out;
}

/**
 * Removing a managed user, per database: anything it owns goes to the superuser (there should be nothing: owned
 * objects are refused before), then its privileges; then the role.
 */
export function dropRoleStatements(username: string): { perDatabase: string[]; final: string } {
  return {
    perDatabase: [`REASSIGN OWNED BY ${ident(username)} TO CURRENT_USER`, `DROP OWNED BY ${ident(username)}`],
    final: `DROP ROLE IF EXISTS ${ident(username)}`,
  };
}
