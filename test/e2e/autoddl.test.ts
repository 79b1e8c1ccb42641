// AutoDDL that cannot be fooled (issue 20), on a real 3-node pglogical database (the newest major): a query string
// that is more than its one DDL statement is refused, as Postgres's parser sees it (the quote trick made a character
// count say 1); CONCURRENTLY is refused before it starts; pgcp.queue_ddl is the superuser's alone; single DDL still
// replicates, once (ALTER TABLE … DROP COLUMN used to be queued twice, and its second replay stopped the peer's
// apply). Issue 18: a plain DROP TABLE of a replicated table (pglogical refused it without CASCADE), RENAME and
// TRUNCATE replicate; CREATE EXTENSION vector replicates and so do rows with vector columns.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const run = promisify(execFile);
let s: ApiStack;
const dbId = `autoddl-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(4);
const port = (n: string) => basePort + Number(n.slice(1));
const users = { admin: 'admin-pw', app: 'app-pw-7' } as const;
const spec = {
  database_name: 'app',
  database_users: [
    { username: 'admin', password: users.admin, db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] },
    { username: 'app', password: users.app, attributes: ['LOGIN'] },
  ],
  nodes: ['n1', 'n2', 'n3'].map((name) => ({ name, host_ids: ['host-1'], port: port(name) })),
};

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => { await s?.stop(); });

async function sql(n: string, text: string, params: unknown[] = [], user: keyof typeof users = 'admin') {
  const c = new pg.Client({ host: '127.0.0.1', port: port(n), user, password: users[user], database: 'app', connectionTimeoutMillis: 3000 });
  await c.connect();
  try { return (await c.query(text, params)).rows; } finally { await c.end(); }
}

/** One query string through psql (the simple query protocol: every statement in one message). */
async function psql(n: string, query: string, user: keyof typeof users = 'admin'): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port(n)), '-U', user, '-d', 'app', '-c', query], { env: { ...process.env, PGPASSWORD: users[user] } });
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}

const count = async (n: string, table: string) => Number((await sql(n, `SELECT count(*) AS c FROM ${table}`))[0].c);
const exists = async (n: string, name: string) => (await sql(n, 'SELECT to_regclass($1) IS NOT NULL AS e', [`public.${pg.escapeIdentifier(name)}`]))[0].e as boolean;

const nodes = ['n1', 'n2', 'n3'];
const everywhere = async (what: string, check: (n: string) => Promise<boolean>) => {
  for (const n of nodes) await waitFor(`${what} on ${n}`, () => check(n), 60_000);
};

describe('AutoDDL on a 3-node database', () => {
  it('is created, with a table replicated both ways', async () => {
    const r = await s.call('POST', '/v1/databases', { id: dbId, spec });
    expect(r.status, r.text).toBe(200);
    await waitFor('database available', async () => (await s.call('GET', `/v1/databases/${dbId}`)).body.state === 'available', 300_000, 2000);
    await sql('n1', 'CREATE TABLE items (id int PRIMARY KEY, note text)');
    await waitFor('items on n2', () => exists('n2', 'items'), 60_000);
    await sql('n2', "INSERT INTO items VALUES (1, 'from n2')");
    await waitFor('row on n1', async () => (await count('n1', 'items')) === 1, 60_000);
  });

  it('refuses the quote trick sent as one query string on n1; both nodes keep equal row counts', async () => {
    const trick = `CREATE TABLE "a'b" (x int); INSERT INTO items VALUES (2, 'smuggled'); CREATE TABLE "c'd" (x int);`;
    const r = await psql('n1', trick);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('DDL is replicated to every node statement by statement: send this CREATE TABLE as a query of its own');
    await sql('n1', "INSERT INTO items VALUES (3, 'marker')"); // once the marker is on n2, anything queued before it is too
    await waitFor('marker on n2', async () => (await sql('n2', 'SELECT 1 FROM items WHERE id = 3')).length === 1, 60_000);
    expect([await count('n1', 'items'), await count('n2', 'items')]).toEqual([2, 2]);
    for (const n of ['n1', 'n2']) for (const t of ["a'b", "c'd"]) expect(await exists(n, t), `${t} on ${n}`).toBe(false);
  });

  it('refuses DDL run from a DO block, and CREATE/DROP INDEX CONCURRENTLY before they start', async () => {
    const block = await psql('n1', 'DO $$ BEGIN CREATE TABLE from_do (x int); INSERT INTO items VALUES (4, \'do\'); END $$');
    expect(block.out).toContain('send this CREATE TABLE as a query of its own');
    const cic = await psql('n1', 'CREATE INDEX CONCURRENTLY items_note ON items (note)');
    expect(cic.out).toContain('CREATE INDEX CONCURRENTLY cannot be replicated');
    expect((await sql('n1', "SELECT count(*)::int AS c FROM pg_class WHERE relname = 'items_note'"))[0].c).toBe(0); // nothing was built
    await sql('n1', 'CREATE INDEX items_note ON items (note)');
    const dic = await psql('n1', 'DROP INDEX CONCURRENTLY items_note');
    expect(dic.out).toContain('DROP INDEX CONCURRENTLY cannot be replicated');
    await waitFor('items_note on n2', async () => (await sql('n2', "SELECT count(*)::int AS c FROM pg_class WHERE relname = 'items_note'"))[0].c === 1, 60_000);
  });

  it('pgcp.queue_ddl is not executable by a non-superuser', async () => {
    for (const n of ['n1', 'n2']) {
      const rows = await sql(n, "SELECT has_function_privilege('app', 'pgcp.queue_ddl(text, text[], name)', 'EXECUTE') AS can");
      expect(rows[0].can, n).toBe(false);
    }
    const r = await psql('n1', "SELECT pgcp.queue_ddl('DELETE FROM items', '{public}', 'app')", 'app');
    expect(r.ok).toBe(false);
    expect(r.out).toContain('permission denied for function queue_ddl');
  });

  it('a single DDL statement still replicates: an ordinary user\'s table, owned by that user on every node', async () => {
    await sql('n1', 'GRANT CREATE ON SCHEMA public TO app');
    await waitFor('grant on n2', async () => (await sql('n2', "SELECT has_schema_privilege('app', 'public', 'CREATE') AS ok"))[0].ok, 60_000);
    const r = await psql('n1', '/* notes; */ CREATE TABLE app_notes (id int PRIMARY KEY) -- trailing ;\n;', 'app');
    expect(r.ok, r.out).toBe(true);
    await waitFor('app_notes on n2', () => exists('n2', 'app_notes'), 60_000);
    expect((await sql('n2', "SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'app_notes'"))[0].o).toBe('app');
  });

  it('ALTER TABLE … DROP COLUMN replays once: rows keep flowing both ways after it', async () => {
    await sql('n1', 'ALTER TABLE items ADD COLUMN extra int');
    await waitFor('extra on n2', async () => (await sql('n2', "SELECT count(*)::int AS c FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'extra'"))[0].c === 1, 60_000);
    await sql('n1', 'ALTER TABLE items DROP COLUMN extra');
    await sql('n1', "INSERT INTO items VALUES (5, 'after the drop, from n1')");
    await waitFor('row 5 on n2', async () => (await sql('n2', 'SELECT 1 FROM items WHERE id = 5')).length === 1, 60_000);
    await sql('n2', "INSERT INTO items VALUES (6, 'after the drop, from n2')");
    await waitFor('row 6 on n1', async () => (await sql('n1', 'SELECT 1 FROM items WHERE id = 6')).length === 1, 60_000);
  });

  it('a plain DROP TABLE of a replicated table drops it on every node; created again, it replicates rows both ways', async () => {
    await sql('n1', 'CREATE TABLE t (id int PRIMARY KEY, note text)');
    await everywhere('t', (n) => exists(n, 't'));
    await sql('n2', "INSERT INTO t VALUES (1, 'before the drop')");
    await everywhere('t with its row', async (n) => (await exists(n, 't')) && (await count(n, 't')) === 1);
    const drop = await psql('n1', 'DROP TABLE t');
    expect(drop.ok, drop.out).toBe(true); // pglogical refused it: "table t membership in replication set default depends on table t"
    await everywhere('t gone', async (n) => !(await exists(n, 't')));
    await sql('n1', 'CREATE TABLE t (id int PRIMARY KEY, note text)');
    await everywhere('t again', (n) => exists(n, 't'));
    await sql('n1', "INSERT INTO t VALUES (10, 'from n1')");
    await sql('n3', "INSERT INTO t VALUES (30, 'from n3')");
    await everywhere('both rows', async (n) => (await count(n, 't')) === 2);
  });

  it('DROP TABLE … CASCADE drops the table and what depends on it everywhere; RESTRICT still refuses a view on it', async () => {
    await sql('n1', 'CREATE TABLE parent (id int PRIMARY KEY)');
    await sql('n1', 'CREATE VIEW parent_ids AS SELECT id FROM parent');
    await everywhere('the view', (n) => exists(n, 'parent_ids'));
    const restrict = await psql('n1', 'DROP TABLE parent');
    expect(restrict.ok).toBe(false);
    expect(restrict.out).toContain('view parent_ids depends on table parent');
    const cascade = await psql('n1', 'DROP TABLE parent CASCADE');
    expect(cascade.ok, cascade.out).toBe(true);
    await everywhere('parent and its view gone', async (n) => !(await exists(n, 'parent')) && !(await exists(n, 'parent_ids')));
  });

  it('ALTER TABLE … RENAME replicates, and rows keep flowing both ways under the new name', async () => {
    await sql('n1', 'ALTER TABLE t RENAME TO t_renamed');
    await everywhere('t_renamed', async (n) => (await exists(n, 't_renamed')) && !(await exists(n, 't')));
    await sql('n2', "INSERT INTO t_renamed VALUES (20, 'from n2 after the rename')");
    await sql('n1', "INSERT INTO t_renamed VALUES (11, 'from n1 after the rename')");
    await everywhere('4 rows', async (n) => (await count(n, 't_renamed')) === 4);
  });

  it('TRUNCATE of a replicated table empties it on every node, and rows flow again afterwards', async () => {
    await sql('n2', 'TRUNCATE t_renamed');
    await everywhere('t_renamed empty', async (n) => (await count(n, 't_renamed')) === 0);
    await sql('n3', "INSERT INTO t_renamed VALUES (31, 'after the truncate')");
    await everywhere('the new row', async (n) => (await count(n, 't_renamed')) === 1);
  });

  it('CREATE EXTENSION vector replicates, and rows with vector columns replicate both ways', async () => {
    await sql('n1', 'CREATE EXTENSION vector');
    await everywhere('vector', async (n) => (await sql(n, "SELECT count(*)::int AS c FROM pg_extension WHERE extname = 'vector'"))[0].c === 1);
    await sql('n1', 'CREATE TABLE embeddings (id int PRIMARY KEY, v vector(3))');
    await everywhere('embeddings', (n) => exists(n, 'embeddings'));
    await sql('n1', "INSERT INTO embeddings VALUES (1, '[1,2,3]')");
    await sql('n3', "INSERT INTO embeddings VALUES (3, '[3,2,1]')");
    await everywhere('both vectors', async (n) => (await count(n, 'embeddings')) === 2);
    const nearest = await sql('n2', "SELECT id, v::text AS v FROM embeddings ORDER BY v <-> '[3,2,0]' LIMIT 1");
    expect(nearest).toEqual([{ id: 3, v: '[3,2,1]' }]);
  });
});
