import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { libraryCatalog } from '../../api/guc-catalog.js';
import { majors } from '../../images/recipe.mjs';
import { preloadLibraries } from '../../activities/patroni/config.js';
import { validatePreloadLibraries } from '../../workflows/model/validate-preload.js';

const spec = (conf: Record<string, unknown>, nodeConf?: Record<string, unknown>, versions: [string, string?] = ['17.6']): DatabaseSpec => ({
  database_name: 'app',
  postgres_version: versions[0],
  postgresql_conf: conf,
  nodes: [
    { name: 'n1', host_ids: ['host-1'], ...(nodeConf ? { postgresql_conf: nodeConf } : {}) },
    { name: 'n2', host_ids: ['host-1'], ...(versions[1] ? { postgres_version: versions[1] } : {}) },
  ],
});
const issues = (s: DatabaseSpec) => validatePreloadLibraries(s, libraryCatalog);

describe('shared_preload_libraries against the image of each node', () => {
  it('every major of the manifest has its libraries recorded, with its preloadable extensions among them', () => {
    for (const major of majors()) {
      const c = libraryCatalog(major)!;
      expect(c, major).toBeDefined();
      expect(c.libraries).toEqual(expect.arrayContaining(['pglogical', 'pg_stat_statements', 'auto_explain', 'pg_cron', 'pgaudit']));
    }
  });

  it('accepts Postgres\'s own libraries, the image\'s extensions, pgEdge\'s names and the forms Postgres reads', () => {
    expect(issues(spec({ shared_preload_libraries: 'pg_stat_statements, auto_explain,pg_cron, pgaudit' }))).toEqual([]);
    expect(issues(spec({ shared_preload_libraries: 'spock, snowflake, lolor' }))).toEqual([]);
    expect(issues(spec({ shared_preload_libraries: '"pg_cron", $libdir/pgaudit, pg_prewarm.so, /usr/lib/postgresql/17/lib/auto_explain.so' }))).toEqual([]);
    expect(issues(spec({ shared_preload_libraries: '' }))).toEqual([]);
    expect(issues(spec({ shared_preload_libraries: 'vector' }))).toEqual([]);
  });

  it('refuses a library the image lacks, naming the field and the image\'s extensions', () => {
    expect(issues(spec({ shared_preload_libraries: 'pg_cron, timescaledb' }))).toEqual([{
      path: 'postgresql_conf[shared_preload_libraries]',
      message: 'library "timescaledb" is not in the image of Postgres 17 (its extensions: pg_cron, pgaudit, postgis, vector; Postgres\'s own libraries such as pg_stat_statements and auto_explain)',
    }]);
    expect(issues(spec({}, { SHARED_PRELOAD_LIBRARIES: 'pg_cron,/opt/evil/lib.so' }))).toEqual([
      { path: 'nodes[0].postgresql_conf[SHARED_PRELOAD_LIBRARIES]', message: expect.stringMatching(/^library "\/opt\/evil\/lib\.so" is not in the image of Postgres 17/) },
    ]);
  });

  it('the database\'s list is checked against every node\'s major: pgvector is not in the Postgres 15 image', () => {
    expect(issues(spec({ shared_preload_libraries: 'vector' }, undefined, ['17.6', '15.14']))).toEqual([
      { path: 'postgresql_conf[shared_preload_libraries]', message: expect.stringMatching(/^library "vector" is not in the image of Postgres 15 \(its extensions: pg_cron, pgaudit, postgis;/) },
    ]);
  });

  it('the preload list written for Patroni maps pgEdge\'s names and unquotes', () => {
    expect(preloadLibraries('spock, "pg_cron", snowflake')).toBe('pglogical,pg_cron');
  });
});
