import { describe, expect, it } from 'vitest';
import { scriptIssues, scriptStatementIssue } from '../../api/sql-scripts.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

describe('creation script statements, parsed by Postgres\'s grammar', () => {
  it.each([
    'CREATE ROLE reporting NOLOGIN',
    "CREATE TABLE seeded (id int PRIMARY KEY, note text DEFAULT 'a;b')", // a semicolon inside a literal is not a second statement
    'INSERT INTO seeded VALUES (1, $$x; y$$)',
    'CREATE EXTENSION IF NOT EXISTS vector',
    'CREATE INDEX ON seeded (note)',
    '/* leading comment */ GRANT SELECT ON seeded TO reporting;',
    'DO $$ BEGIN PERFORM 1; END $$',
  ])('accepts %s', async (sql) => {
    expect(await scriptStatementIssue(sql)).toBeNull();
  });

  it.each([
    ['CRAETE TABLE t (id int)', 'not valid SQL: syntax error at or near "CRAETE"'],
    ['SELECT 1; SELECT 2', 'holds 2 statements: give each statement its own entry'],
    ['-- only a comment', 'holds no statement'],
    ['BEGIN', 'transaction control'],
    ['ROLLBACK', 'transaction control'],
    ['VACUUM seeded', 'VACUUM'],
    ['CREATE DATABASE other', 'CREATE DATABASE cannot run inside a transaction'],
    ["ALTER SYSTEM SET work_mem = '8MB'", 'ALTER SYSTEM cannot run inside a transaction'],
    ['DROP INDEX CONCURRENTLY i', 'CONCURRENTLY cannot run inside a transaction'],
    ['REINDEX (CONCURRENTLY) TABLE seeded', 'REINDEX CONCURRENTLY'],
    ["CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", 'subscriptions are the control plane\'s'],
  ])('refuses %s', async (sql, message) => {
    expect(await scriptStatementIssue(sql)).toContain(message);
  });

  it('names each problem by script and position', async () => {
    const spec = { database_name: 'app', nodes: [], scripts: { post_init: ['CREATE ROLE r', 'COMMIT'], post_database_create: ['SELECT 1; SELECT 2'] } } as unknown as DatabaseSpec;
    expect((await scriptIssues(spec)).map((i) => i.path)).toEqual(['scripts.post_init[1]', 'scripts.post_database_create[0]']);
  });
});
