// PostgREST (pgEdge §5.7): its preflight on the first node's primary (the schemas it serves and its anon role exist),
// its authenticator on every node's primary (`connect_as` NOINHERIT, allowed to connect, a member of the anon role),
// and its configuration file (pure). Its container needs the image the version maps to, which no registry here
// serves: that step fails with "image … is not available" before anything is made (service-instances.ts).
import pg from 'pg';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { loadDatabase, type DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { resolvePrimary } from '../postgres/node-database.js';
import { withClient } from '../postgres/connect.js';
import { sessionAttrs } from '../../workflows/model/services.js';

const ident = (s: string) => pg.escapeIdentifier(s);

export const postgrestSchemas = (s: ServiceSpec) => String(s.config?.db_schemas ?? 'public').split(',').map((x) => x.trim()).filter(Boolean);
const anonRole = (s: ServiceSpec) => String(s.config?.db_anon_role ?? '');

/** postgrest.conf: db-uri over every target host with target_session_attrs, the pool, the rows, JWT and CORS. */
export function postgrestConfig(s: ServiceSpec, db: { dbname: string; user: string; password: string; hosts: { host: string; port: number }[] }): string {
  const c = s.config ?? {};
  const hosts = db.hosts.map((h) => `${h.host}:${h.port}`).join(',');
  const uri = `postgresql://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@${hosts}/${encodeURIComponent(db.dbname)}?target_session_attrs=${sessionAttrs(s)}`;
  const q = (v: unknown) => `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [
    `db-uri = ${q(uri)}`,
    `db-schemas = ${q(postgrestSchemas(s).join(','))}`,
    `db-anon-role = ${q(anonRole(s))}`,
    `db-pool = ${typeof c.db_pool === 'number' ? c.db_pool : 10}`,
    `db-max-rows = ${typeof c.max_rows === 'number' ? c.max_rows : 1000}`,
    ...(c.jwt_secret !== undefined ? [`jwt-secret = ${q(c.jwt_secret)}`] : []),
    ...(c.jwt_aud !== undefined ? [`jwt-aud = ${q(c.jwt_aud)}`] : []),
    `jwt-role-claim-key = ${q(c.jwt_role_claim_key ?? '.role')}`,
    ...(c.server_cors_allowed_origins !== undefined ? [`server-cors-allowed-origins = ${q(c.server_cors_allowed_origins)}`] : []),
    'server-host = "0.0.0.0"',
    'server-port = 8080',
    'admin-server-port = 8081',
  ];
  return `${lines.join('\n')}\n`;
}

function findPostgrest(db: DatabaseContext, serviceId: string): ServiceSpec {
  const s = db.spec.services?.find((x) => x.service_id === serviceId && x.service_type === 'postgrest');
  if (!s) throw permanent(FailureType.notFound, `PostgREST service ${serviceId} is not in the spec of ${db.databaseId}`);
  return s;
}

export function postgrestActivities(deps: HostDeps) {
  return {
    /** The schemas PostgREST serves and its anon role exist on the first node (else the task fails, naming them). */
    async postgrestPreflight({ databaseId, serviceId, nodeName }: { databaseId: string; serviceId: string; nodeName: string }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const s = findPostgrest(db, serviceId);
      const primary = await resolvePrimary(deps, db, nodeName);
      const problems = await withClient(primary.address, db.secrets, db.spec.database_name, async (c) => {
        const out: string[] = [];
        const schemas = postgrestSchemas(s);
        const { rows } = await c.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY ($1)', [schemas]);
        for (const sc of schemas) if (!rows.some((r) => r.nspname === sc)) out.push(`schema "${sc}" (db_schemas) does not exist`);
        const anon = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [anonRole(s)]);
        if (anon.rowCount === 0) out.push(`anon role "${anonRole(s)}" (db_anon_role) does not exist`);
        return out;
      });
      if (problems.length) throw permanent(FailureType.invalidSpec, `PostgREST service ${serviceId} preflight failed on node ${nodeName}: ${problems.join('; ')}`);
    },

    /** connect_as as PostgREST's authenticator on this node: NOINHERIT, CONNECT on the database, member of the anon role. */
    async postgrestAuthenticator({ databaseId, serviceId, nodeName }: { databaseId: string; serviceId: string; nodeName: string }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const s = findPostgrest(db, serviceId);
      const primary = await resolvePrimary(deps, db, nodeName);
      await withClient(primary.address, db.secrets, db.spec.database_name, async (c) => {
        const anon = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [anonRole(s)]);
        if (anon.rowCount === 0) throw permanent(FailureType.invalidSpec, `PostgREST service ${serviceId}: anon role "${anonRole(s)}" does not exist on node ${nodeName}`);
        await c.query(`ALTER ROLE ${ident(s.connect_as)} NOINHERIT`);
        await c.query(`GRANT CONNECT ON DATABASE ${ident(db.spec.database_name)} TO ${ident(s.connect_as)}`);
        const member = await c.query('SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2', [anonRole(s), s.connect_as]);
        if (member.rowCount === 0) await c.query(`GRANT ${ident(anonRole(s))} TO ${ident(s.connect_as)}`);
      });
    },
  };
}
