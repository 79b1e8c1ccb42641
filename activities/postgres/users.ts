// database_users on one node's primary: create or converge the listed ones, drop managed ones no longer listed.
// A user that owns anything is never dropped: the whole update is refused before anything changes.
import type pg from 'pg';
import type { DatabaseUserSpec } from '../../api/schemas/database-spec.js';
import { FailureType, permanent } from '../errors.js';
import { dropRoleStatements, managedRoleComment, roleStatements } from './roles.js';

/** Roles this control plane made (commented so) that the spec no longer lists. */
export async function usersToDrop(c: pg.ClientBase, users: DatabaseUserSpec[]): Promise<string[]> {
  const { rows } = await c.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles r WHERE shobj_description(r.oid, 'pg_authid') = $1 ORDER BY rolname",
    [managedRoleComment],
  );
  const listed = new Set(users.map((u) => u.username));
  return rows.map((r) => r.rolname).filter((r) => !listed.has(r));
}

/** What each role owns on this node (databases, and objects in any database), described for an error message. */
export async function ownedObjects(c: pg.ClientBase, roles: string[]): Promise<string[]> {
  if (roles.length === 0) return [];
  const { rows } = await c.query<{ rolname: string; what: string; n: number }>(
    `SELECT r.rolname, coalesce(d.datname, 'cluster-wide') AS what, count(*)::int AS n
     FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid LEFT JOIN pg_database d ON d.oid = s.dbid
     WHERE s.deptype = 'o' AND r.rolname = ANY ($1) GROUP BY r.rolname, d.datname ORDER BY 1, 2`,
    [roles],
  );
  return rows.map((r) => `user ${r.rolname} owns ${r.n} object(s) in ${r.what === 'cluster-wide' ? 'the cluster (databases or tablespaces)' : `database ${r.what}`}`);
}

export async function convergeUsers(c: pg.ClientBase, users: DatabaseUserSpec[], databases: string[], connectTo: (db: string) => Promise<pg.Client>): Promise<{ dropped: string[] }> {
  for (const user of users) {
    const { rows } = await c.query<{ member_of: string[] }>(
      `SELECT coalesce((SELECT array_agg(g.rolname::text) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '{}'::text[]) AS member_of
       FROM pg_roles r WHERE r.rolname = $1`,
      [user.username],
    );
    for (const stmt of roleStatements(user, { exists: rows.length > 0, memberOf: rows[0]?.member_of ?? [] })) await c.query(stmt);
  }
  const drop = await usersToDrop(c, users);
  for (const role of drop) {
    const refuse = (owned: string[]) => permanent(FailureType.refused, `cannot remove ${owned.join('; ')}: reassign or drop them first`);
    const before = await ownedObjects(c, [role]);
    if (before.length > 0) throw refuse(before);
    // No new sessions and none left, so nothing new can be created under it; checked again, then its privileges
    // go. REASSIGN before DROP OWNED: an object made in between is handed over, never dropped.
    const { rows } = await c.query<{ login: boolean }>('SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1', [role]);
    await c.query(`ALTER ROLE ${c.escapeIdentifier(role)} NOLOGIN`);
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    const after = await ownedObjects(c, [role]);
    if (after.length > 0) {
      if (rows[0]?.login) await c.query(`ALTER ROLE ${c.escapeIdentifier(role)} LOGIN`);
      throw refuse(after);
    }
    const stmts = dropRoleStatements(role);
    for (const db of databases) {
      const other = await connectTo(db);
      try {
        for (const stmt of stmts.perDatabase) await other.query(stmt);
      } finally {
        await other.end().catch(() => undefined);
      }
    }
    await c.query(stmts.final);
  }
  return { dropped: drop };
}
