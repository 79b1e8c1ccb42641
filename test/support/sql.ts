// Queries on a database's nodes from the test process: one connection per query, closed at once, so a test checks
// what a node holds at one moment and leaves nothing open when a container goes away.
import pg from 'pg';

export interface NodeLogin { password: string; host?: string; user?: string; database?: string }

/** Where a node published on this host is reached: 127.0.0.1 as admin on database app unless told otherwise. */
export function nodeConnection(port: number, o: NodeLogin): pg.ClientConfig {
  return { host: o.host ?? '127.0.0.1', port, user: o.user ?? 'admin', password: o.password, database: o.database ?? 'app', connectionTimeoutMillis: 3000 };
}

/** The rows of one statement, on a fresh connection (a libpq connection string or settings). */
export async function query(conn: string | pg.ClientConfig, text: string, params: unknown[] = []): Promise<any[]> {
  const c = new pg.Client(typeof conn === 'string' ? { connectionString: conn } : conn);
  await c.connect();
  try { return (await c.query(text, params)).rows; } finally { await c.end(); }
}

/**
 * What a shell command prints when a node's Postgres runs it (`COPY … TO PROGRAM`, as any database superuser can):
 * what a tenant can reach from inside its container. Its exit status is ignored; stderr is included.
 */
export async function programOutput(conn: pg.ClientConfig, cmd: string): Promise<string> {
  const c = new pg.Client(conn);
  await c.connect();
  try {
    const out = `/tmp/pgcp-test-program-${process.pid}`;
    await c.query(`COPY (SELECT 1) TO PROGRAM ${c.escapeLiteral(`(${cmd}) > ${out} 2>&1; true`)}`);
    return (await c.query<{ out: string }>('SELECT pg_read_file($1) AS out', [out])).rows[0]!.out;
  } finally {
    await c.end();
  }
}
