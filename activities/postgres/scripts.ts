// The spec's creation scripts (pgEdge §5.1) on a node's primary: `post_init` in the `postgres` database before the
// users are made, `post_database_create` in the application database once its replication node exists and before
// any subscription. Each runs once, in one transaction that also records it in `pgcp.script_results` of the same
// database: a retried activity finds the record and runs nothing again, a failed statement rolls all of it back.
// The task log shows each statement's command and row count, never its text (a statement may hold a password); a
// failure names the script, the statement's position and Postgres's error.
import type pg from 'pg';
import type { DatabaseScripts } from '../../api/schemas/database-spec.js';
import { FailureType, permanent } from '../errors.js';

export type ScriptName = keyof DatabaseScripts;

const resultsTable = `CREATE SCHEMA IF NOT EXISTS pgcp;
CREATE TABLE IF NOT EXISTS pgcp.script_results (script text PRIMARY KEY, ran_at timestamptz NOT NULL DEFAULT now(), results jsonb NOT NULL)`;

/** A statement as a failure may show it: its text, unless it sets a password. */
function shown(sql: string): string {
  if (/password/i.test(sql)) return '(text not shown: it sets a password)';
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `"${one.slice(0, 200)}…"` : `"${one}"`;
}

/**
 * Runs `statements` as script `name` on node `nodeName` unless this database already records it; `after` runs in the
 * same transaction (e.g. putting the tables the script made into the replication sets). Returns task-log lines.
 */
export async function runScript(
  c: pg.ClientBase, name: ScriptName, nodeName: string, statements: string[],
  after?: (c: pg.ClientBase) => Promise<string | null>,
): Promise<string[]> {
  if (statements.length === 0) return [];
  await c.query(resultsTable);
  const done = await c.query<{ results: string[] }>('SELECT results FROM pgcp.script_results WHERE script = $1', [name]);
  if (done.rows[0]) return [`${name} on node ${nodeName}: already ran (${done.rows[0].results.length} statements), not run again`];
  const lines: string[] = [];
  await c.query('BEGIN');
  try {
    for (const [i, sql] of statements.entries()) {
      let r: pg.QueryResult;
      try {
        r = await c.query(sql);
      } catch (err) {
        throw permanent(FailureType.invalidSpec,
          `scripts.${name}[${i}] failed on node ${nodeName}: ${(err as Error).message}; statement ${shown(sql)}; nothing of ${name} was kept`);
      }
      const rows = r.rowCount === null ? '' : ` ${r.rowCount}`;
      lines.push(`${name}[${i}] on node ${nodeName}: ${r.command ?? 'OK'}${rows}`);
    }
    const extra = await after?.(c);
    if (extra) lines.push(extra);
    await c.query('INSERT INTO pgcp.script_results (script, results) VALUES ($1, $2)', [name, JSON.stringify(lines)]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return lines;
}
