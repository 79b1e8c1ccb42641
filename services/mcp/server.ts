// The MCP server the control plane runs for `service_type: mcp`: the Model Context Protocol over streamable HTTP
// (stateless: a server and transport per request), with pgEdge MCP server's tools and config (allow_writes, the
// disable_* toggles, init_token / init_users for its HTTP auth), against the database as `connect_as`. Runs inside
// its container (images/services/mcp.Dockerfile); everything it needs is in the config file the control plane
// renders (activities/services/mcp-config.ts). No outside LLM or embedding provider is ever called.
import { createHash, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import pg from 'pg';
import { z } from 'zod';
import type { McpAuthFile, McpConfig } from './config.js';

const config = JSON.parse(readFileSync(process.argv[2] ?? '/app/data/config.json', 'utf8')) as McpConfig;
const readAuth = (): McpAuthFile => {
  try { return JSON.parse(readFileSync(config.authFile, 'utf8')) as McpAuthFile; } catch { return { tokens: [], users: [] }; }
};
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

// ---- the database: the first target host that fits target_session_attrs ------------------------------------------

let current: { host: string; port: number; pool: pg.Pool } | null = null;

async function inRecovery(host: string, port: number): Promise<boolean | null> {
  const c = new pg.Client({ host, port, database: config.database.dbname, user: config.database.user, password: config.database.password, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return rows[0]!.r;
  } catch {
    return null;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function choose(): Promise<{ host: string; port: number }> {
  const attrs = config.database.target_session_attrs;
  const seen: { host: string; port: number; standby: boolean }[] = [];
  for (const h of config.database.hosts) {
    const r = await inRecovery(h.host, h.port);
    if (r === null) continue;
    if (attrs === 'any') return h;
    if ((attrs === 'primary' || attrs === 'read-write') && !r) return h;
    if ((attrs === 'standby' || attrs === 'prefer-standby') && r) return h;
    seen.push({ ...h, standby: r });
  }
  if (attrs === 'prefer-standby' && seen[0]) return seen[0];
  throw new Error(`no database host answers as ${attrs} (tried ${config.database.hosts.map((h) => `${h.host}:${h.port}`).join(', ')})`);
}

async function pool(): Promise<pg.Pool> {
  if (current) return current.pool;
  const h = await choose();
  const p = new pg.Pool({ host: h.host, port: h.port, database: config.database.dbname, user: config.database.user, password: config.database.password, max: config.database.pool_max_conns, connectionTimeoutMillis: 5000 });
  p.on('error', () => undefined);
  current = { ...h, pool: p };
  log(`database: ${h.host}:${h.port} (${config.database.target_session_attrs})`);
  return p;
}

/**
 * A connection-level failure (the host went away, or no longer has the role asked for): choose a host again. SQL
 * errors are the caller's.
 */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  if (!/^[0-9A-Z]{5}$/.test(code)) return true; // ECONNREFUSED, "Connection terminated", timeouts
  const wantsPrimary = ['primary', 'read-write'].includes(config.database.target_session_attrs);
  return code.startsWith('08') || code.startsWith('57P') || (code === '25006' && wantsPrimary);
}

async function withTransaction<T>(readOnly: boolean, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let client: pg.PoolClient | undefined;
    try {
      client = await (await pool()).connect();
      await client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      try {
        const r = await fn(client);
        await client.query('COMMIT');
        return r;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      if (attempt < 2 && isConnectionError(err)) {
        const old = current;
        current = null;
        await old?.pool.end().catch(() => undefined);
        continue;
      }
      throw err;
    } finally {
      client?.release();
    }
  }
}

// ---- tools (pgEdge's names; each may be turned off) ----------------------------------------------------------------

const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] });
const failure = (err: unknown) => ({ isError: true, content: [{ type: 'text' as const, text: `error: ${(err as Error).message}` }] });

function buildServer(): McpServer {
  const server = new McpServer({ name: 'pgcp-postgres-mcp', version: '1.0.0' });
  const t = config.tools;
  const writes = config.database.allow_writes;
  if (t.query_database) {
    server.registerTool('query_database', {
      description: `Run one SQL statement and return its rows as JSON.${writes ? '' : ' Read-only: writes are refused.'}`,
      inputSchema: { query: z.string().min(1).describe('the SQL statement') },
    }, async ({ query }) => {
      try {
        const r = await withTransaction(!writes, (c) => c.query(query));
        return text({ command: r.command, row_count: r.rowCount, rows: r.rows });
      } catch (err) { return failure(err); }
    });
  }
  if (t.get_schema_info) {
    server.registerTool('get_schema_info', {
      description: 'Tables, views and their columns (optionally of one schema).',
      inputSchema: { schema_name: z.string().optional() },
    }, async ({ schema_name }) => {
      try {
        const r = await withTransaction(true, (c) => c.query(
          `SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pglogical%' AND ($1::text IS NULL OR table_schema = $1)
           ORDER BY table_schema, table_name, ordinal_position`, [schema_name ?? null]));
        return text(r.rows);
      } catch (err) { return failure(err); }
    });
  }
  if (t.execute_explain) {
    server.registerTool('execute_explain', {
      description: 'EXPLAIN a statement (with analyze: runs it, in a transaction that is rolled back unless writes are allowed).',
      inputSchema: { query: z.string().min(1), analyze: z.boolean().optional() },
    }, async ({ query, analyze }) => {
      try {
        const r = await withTransaction(!writes, (c) => c.query(`EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE' : ''}) ${query}`));
        return text(r.rows[0]);
      } catch (err) { return failure(err); }
    });
  }
  if (t.count_rows) {
    server.registerTool('count_rows', {
      description: 'Count the rows of a table.',
      inputSchema: { table: z.string().min(1), schema: z.string().optional() },
    }, async ({ table, schema }) => {
      try {
        const name = `${schema ? `${pg.escapeIdentifier(schema)}.` : ''}${pg.escapeIdentifier(table)}`;
        const r = await withTransaction(true, (c) => c.query<{ count: string }>(`SELECT count(*) AS count FROM ${name}`));
        return text({ count: Number(r.rows[0]!.count) });
      } catch (err) { return failure(err); }
    });
  }
  return server;
}

// ---- HTTP: /health, and /mcp behind the bootstrap token or users when they were given -----------------------------

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function authorized(header: string | undefined): boolean {
  const auth = readAuth();
  if (auth.tokens.length === 0 && auth.users.length === 0) return true;
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return auth.tokens.includes(sha256(value));
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = auth.users.find((u) => u.username === decoded.slice(0, i));
    if (!user || i < 0) return false;
    const got = scryptSync(decoded.slice(i + 1), Buffer.from(user.salt, 'hex'), 32);
    return timingSafeEqual(got, Buffer.from(user.hash, 'hex'));
  }
  return false;
}

async function body(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw ? JSON.parse(raw) : undefined;
}

const httpServer = http.createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (url.pathname !== '/mcp') { res.writeHead(404).end(); return; }
    if (!authorized(req.headers.authorization)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }));
      return;
    }
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => { void transport.close(); void server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, await body(req));
  })().catch((err: unknown) => {
    log(`request failed: ${(err as Error).message}`);
    if (!res.headersSent) res.writeHead(500).end();
  });
});

httpServer.listen(config.port, '0.0.0.0', () => log(`MCP server listening on ${config.port} (allow_writes ${config.database.allow_writes})`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { httpServer.close(); void current?.pool.end(); process.exit(0); });
