// A steady writer for "nothing lost, nothing refused" tests: inserts rows round-robin on several nodes at a fixed
// rate, one connection per node (reconnecting after an error), and records every acknowledged row and every error.
import pg from 'pg';

/**
 * One node to write to. With several `hosts` (the node's members, one port), the writer connects to whichever
 * accepts writes, as libpq's target_session_attrs=read-write does (node-postgres has no multi-host strings). A host
 * written `address:port` has its own port (libpq's `host=a,a,b,b port=P,Q,P,Q`: a node whose port changes).
 */
export interface WriterTarget { node: string; port: number; host?: string; hosts?: string[] }
export interface WriterOptions { user: string; password: string; database: string; table: string; ratePerSecond: number }

export interface Writer {
  readonly acknowledged: { id: string; node: string; at: number }[];
  /** The longest time between two acknowledged rows of a node, since the writer started (ms). */
  longestGap(node: string, from?: number): number;
  readonly errors: { node: string; at: number; message: string }[];
  stop(): Promise<void>;
}

export async function startWriter(targets: WriterTarget[], o: WriterOptions): Promise<Writer> {
  const clients = new Map<string, pg.Client | null>();
  const acknowledged: Writer['acknowledged'] = [];
  const errors: Writer['errors'] = [];
  let seq = 0;
  let stopped = false;
  const connectTo = async (t: WriterTarget, endpoint: string) => {
    const [host, port] = endpoint.includes(':') ? [endpoint.split(':')[0]!, Number(endpoint.split(':')[1])] : [endpoint, t.port];
    // several hosts: a short timeout, so a dead member is skipped quickly
    const c = new pg.Client({ host, port, user: o.user, password: o.password, database: o.database, connectionTimeoutMillis: t.hosts ? 1000 : 3000 });
    c.on('error', () => clients.set(t.node, null));
    await c.connect();
    return c;
  };
  const connect = async (t: WriterTarget) => {
    if (!t.hosts) return connectTo(t, t.host ?? '127.0.0.1');
    let last: unknown = new Error('no host');
    for (const h of t.hosts) {
      try {
        const c = await connectTo(t, h);
        if (!(await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r) return c;
        await c.end();
        last = new Error(`${h} is read-only`);
      } catch (err) { last = err; }
    }
    throw last;
  };
  for (const t of targets) clients.set(t.node, await connect(t));
  const startedAt = Date.now();

  const writeOne = async (t: WriterTarget) => {
    const id = `${t.node}-${Date.now().toString(36)}-${seq++}`;
    try {
      let c = clients.get(t.node);
      if (!c) { c = await connect(t); clients.set(t.node, c); }
      await c.query(`INSERT INTO ${o.table} (id, node, payload) VALUES ($1, $2, md5($1))`, [id, t.node]);
      acknowledged.push({ id, node: t.node, at: Date.now() });
    } catch (err) {
      errors.push({ node: t.node, at: Date.now(), message: (err as Error).message });
      const c = clients.get(t.node);
      clients.set(t.node, null);
      await c?.end().catch(() => undefined);
    }
  };

  const interval = 1000 / o.ratePerSecond;
  const loop = (async () => {
    let i = 0;
    let next = Date.now();
    while (!stopped) {
      await writeOne(targets[i++ % targets.length]!);
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  return {
    acknowledged,
    errors,
    longestGap(node: string, from = startedAt) {
      const times = [from, ...acknowledged.filter((a) => a.node === node && a.at >= from).map((a) => a.at)];
      return times.slice(1).reduce((max, t, i) => Math.max(max, t - times[i]!), 0);
    },
    async stop() {
      stopped = true;
      await loop;
      for (const c of clients.values()) await c?.end().catch(() => undefined);
    },
  };
}
