// `scripts.post_init` and `scripts.post_database_create` (pgEdge §5.1) parsed before anything is stored, by
// Postgres's own parser (libpg-query: the server's grammar compiled to WebAssembly, no server needed). Each entry
// must be exactly one statement, since each runs and is reported on its own, and one that Postgres runs inside the
// transaction the scripts share: a transaction command would end it early, and VACUUM, CREATE DATABASE, ALTER
// SYSTEM, CONCURRENTLY… refuse to run in one.
import { loadModule, parseSync } from 'libpg-query';
import type { DatabaseSpec } from './schemas/database-spec.js';
import type { SpecIssue } from '../workflows/model/validate-spec.js';

let loaded: Promise<void> | null = null;
const ready = () => (loaded ??= loadModule());

/** Statement node types Postgres refuses inside a transaction block, or that would end or split the scripts' one. */
const outsideTransaction: Record<string, string> = {
  TransactionStmt: 'transaction control (BEGIN, COMMIT, SAVEPOINT…) is not allowed: the script already runs in one transaction',
  VacuumStmt: 'VACUUM and ANALYZE with VACUUM cannot run inside a transaction',
  CreatedbStmt: 'CREATE DATABASE cannot run inside a transaction',
  DropdbStmt: 'DROP DATABASE cannot run inside a transaction',
  AlterSystemStmt: 'ALTER SYSTEM cannot run inside a transaction (use postgresql_conf)',
  CreateTableSpaceStmt: 'CREATE TABLESPACE cannot run inside a transaction',
  DropTableSpaceStmt: 'DROP TABLESPACE cannot run inside a transaction',
  CreateSubscriptionStmt: 'subscriptions are the control plane\'s',
  AlterSubscriptionStmt: 'subscriptions are the control plane\'s',
  DropSubscriptionStmt: 'subscriptions are the control plane\'s',
};

type Node = Record<string, Record<string, unknown>>;

function statementIssue(stmt: Node): string | null {
  const [kind] = Object.keys(stmt);
  if (!kind) return null;
  if (outsideTransaction[kind]) return outsideTransaction[kind]!;
  const body = stmt[kind] ?? {};
  if ((kind === 'IndexStmt' && body.concurrent) || (kind === 'DropStmt' && body.concurrent)) return 'CONCURRENTLY cannot run inside a transaction';
  if (kind === 'ReindexStmt' && JSON.stringify(body.params ?? []).includes('"concurrently"')) return 'REINDEX CONCURRENTLY cannot run inside a transaction';
  return null;
}

/** One statement of a script: its problem, or null. */
export async function scriptStatementIssue(sql: string): Promise<string | null> {
  await ready();
  let stmts: { stmt?: Node }[];
  try {
    stmts = (parseSync(sql) as { stmts?: { stmt?: Node }[] }).stmts ?? [];
  } catch (err) {
    return `not valid SQL: ${(err as Error).message}`;
  }
  if (stmts.length === 0) return 'holds no statement';
  if (stmts.length > 1) return `holds ${stmts.length} statements: give each statement its own entry`;
  return stmts[0]!.stmt ? statementIssue(stmts[0]!.stmt) : null;
}

/** Every problem of the spec's scripts, one issue per statement (`scripts.post_init[2]`). */
export async function scriptIssues(spec: DatabaseSpec): Promise<SpecIssue[]> {
  const out: SpecIssue[] = [];
  for (const name of ['post_init', 'post_database_create'] as const) {
    const statements = spec.scripts?.[name] ?? [];
    for (const [i, sql] of statements.entries()) {
      const issue = await scriptStatementIssue(sql);
      if (issue) out.push({ path: `scripts.${name}[${i}]`, message: issue });
    }
  }
  return out;
}
