// A steady writer for "nothing lost, nothing refused" tests: inserts rows round-robin on several nodes at a fixed
// rate, one connection per node (reconnecting after an error), and records every acknowledged row and every error.
import pg from 'pg';

export interface WriterTarget { node: string; port: number; host?: string }
export interface WriterOptions { user: string; password: string; database: string; table: string; ratePerSecond: number }

export interface Writer {
  readonly acknowledged: { id: string; node: string; at: number }[];
  readonly errors: { node: string; at: number; message: string }[];
  stop(): Promise<void>;
}

export async function startWriter(targets: WriterTarget[], o: WriterOptions): Promise<Writer> {
  const clients = new Map<string, pg.Client | null>();
  const acknowledged: Writer['acknowledged'] = [];
  const errors: Writer['errors'] = [];
  let seq = 0;
  let stopped = false;
  const connect = async (t: WriterTarget) => {
    const c = new pg.Client({ host: t.host ?? '127.0.0.1', port: t.port, user: o.user, password: o.password, database: o.database, connectionTimeoutMillis: 3000 });
    c.on('error', () => clients.set(t.node, null));
    await c.connect();
    return c;
  };
  for (const t of targets) clients.set(t.node, await connect(t));

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
    async stop() {
      stopped = true;
      await loop;
      for (const c of clients.values()) await c?.end().catch(() => undefined);
    },
  };
}
