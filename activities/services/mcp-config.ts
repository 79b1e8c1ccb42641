// Pure: the MCP server's files from its service spec — config.json (the database it reaches, the tools it offers)
// and, once at its creation, auth.json (init_token as sha256, init_users as scrypt hashes).
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { serviceContainerPort, sessionAttrs } from '../../workflows/model/services.js';
import type { McpAuthFile, McpConfig } from '../../services/mcp/config.js';

export const serviceDataDir = '/app/data';

export function mcpConfig(s: ServiceSpec, db: { dbname: string; user: string; password: string; hosts: { host: string; port: number }[] }): McpConfig {
  const c = s.config ?? {};
  const on = (k: string) => c[`disable_${k}`] !== true;
  return {
    port: serviceContainerPort,
    database: {
      hosts: db.hosts,
      target_session_attrs: sessionAttrs(s),
      dbname: db.dbname,
      user: db.user,
      password: db.password,
      allow_writes: c.allow_writes === true,
      pool_max_conns: typeof c.pool_max_conns === 'number' ? c.pool_max_conns : 4,
    },
    tools: { query_database: on('query_database'), get_schema_info: on('get_schema_info'), execute_explain: on('execute_explain'), count_rows: on('count_rows') },
    authFile: `${serviceDataDir}/auth.json`,
  };
}

export function mcpAuthFile(s: ServiceSpec): McpAuthFile {
  const c = s.config ?? {};
  const tokens = typeof c.init_token === 'string' ? [createHash('sha256').update(c.init_token).digest('hex')] : [];
  const users = Array.isArray(c.init_users)
    ? (c.init_users as { username: string; password: string }[]).map((u) => {
      const salt = randomBytes(16);
      return { username: u.username, salt: salt.toString('hex'), hash: scryptSync(u.password, salt, 32).toString('hex') };
    })
    : [];
  return { tokens, users };
}
