import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { gucCatalog } from '../../api/guc-catalog.js';
import { majors } from '../../images/recipe.mjs';
import { validateGucs } from '../../workflows/model/validate-gucs.js';

const spec = (conf: Record<string, unknown>, nodeConf?: Record<string, unknown>, versions: [string, string?] = ['17.6']): DatabaseSpec => ({
  database_name: 'app',
  postgres_version: versions[0],
  postgresql_conf: conf,
  nodes: [
    { name: 'n1', host_ids: ['host-1'], ...(nodeConf ? { postgresql_conf: nodeConf } : {}) },
    { name: 'n2', host_ids: ['host-2'], ...(versions[1] ? { postgres_version: versions[1] } : {}) },
  ],
});
const issues = (s: DatabaseSpec) => validateGucs(s, gucCatalog);

describe('postgresql_conf against the GUCs recorded from each image', () => {
  it('every Postgres major of the image manifest has its GUCs recorded (images/record-gucs.sh)', () => {
    for (const major of majors()) expect(gucCatalog(major)?.work_mem?.type, `images/gucs/${major}.json`).toBe('integer');
  });

  it('accepts what Postgres accepts: units, bools, enums with their hidden boolean spellings, reals, extension names', () => {
    expect(issues(spec({
      work_mem: '8MB', shared_buffers: '1GB', maintenance_work_mem: 65536, statement_timeout: '30s', log_min_duration_statement: '1.5s',
      log_connections: 'yes', hot_standby_feedback: true, fsync: 1, jit: 'of',
      synchronous_commit: 'REMOTE_APPLY', huge_pages: 'true', wal_compression: 'lz4', random_page_cost: '1.1', vacuum_cost_delay: '2ms',
      effective_io_concurrency: '0x10', 'pglogical.conflict_resolution': 'last_update_wins', 'pg_stat_statements.max': '5000',
      DateStyle: 'ISO, MDY', search_path: '"$user", public', shared_preload_libraries: 'pg_stat_statements', wal_keep_size: null,
    }))).toEqual([]);
  });

  it.each([
    ['an unknown name', { work_memory: '8MB' }, 'postgresql_conf[work_memory]', 'unknown parameter "work_memory" for Postgres 17'],
    ['an unknown name of a loaded extension', { 'pglogical.no_such': 'on' }, 'postgresql_conf[pglogical.no_such]', 'unknown parameter'],
    ['a name that is no identifier', { 'work mem': '8MB' }, 'postgresql_conf[work mem]', 'is not a parameter name'],
    ['a read-only parameter', { block_size: 16384 }, 'postgresql_conf[block_size]', 'is read-only'],
    ['a word for an integer', { work_mem: 'lots' }, 'postgresql_conf[work_mem]', 'must be an integer in kB or with a unit (B, kB, MB, GB, TB) from 64 to 2147483647, got "lots"'],
    ['a time unit for a memory parameter', { work_mem: '10s' }, 'postgresql_conf[work_mem]', 'must be an integer in kB'],
    ['a unit Postgres spells otherwise', { work_mem: '8mb' }, 'postgresql_conf[work_mem]', 'must be an integer'],
    ['an integer below its minimum', { work_mem: 10 }, 'postgresql_conf[work_mem]', 'from 64 to'],
    ['an integer above its maximum once its unit is applied', { shared_buffers: '9TB' }, 'postgresql_conf[shared_buffers]', 'from 16 to 1073741823'],
    ['a unit on a parameter without one', { max_connections: '100kB' }, 'postgresql_conf[max_connections]', 'must be an integer from 1 to'],
    ['a word for a boolean', { log_connections: 'maybe' }, 'postgresql_conf[log_connections]', 'must be a boolean (on, off, true, false, yes, no, 1, 0), got "maybe"'],
    ['2 for a boolean', { fsync: 2 }, 'postgresql_conf[fsync]', 'must be a boolean'],
    ['an unknown enum value', { synchronous_commit: 'sometimes' }, 'postgresql_conf[synchronous_commit]', 'must be one of local, remote_write, remote_apply, on, off, got "sometimes"'],
    ['a boolean for an enum without on/off', { wal_level: 'logical', default_transaction_isolation: 'yes' }, 'postgresql_conf[default_transaction_isolation]', 'must be one of'],
    ['a word for a real', { random_page_cost: 'cheap' }, 'postgresql_conf[random_page_cost]', 'must be a number'],
  ] as [string, Record<string, unknown>, string, string][])('refuses %s', (_label, conf, path, message) => {
    expect(issues(spec(conf))).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('checks a node\'s own entries against its major and the database\'s against every node\'s', () => {
    // summarize_wal came with 17: fine on a 17 node, refused at database level when a 15 node would read it too
    expect(issues(spec({}, { summarize_wal: 'on' }, ['17.6', '15.14']))).toEqual([]);
    expect(issues(spec({ summarize_wal: 'on' }, undefined, ['17.6', '15.14']))).toEqual([
      { path: 'postgresql_conf[summarize_wal]', message: 'unknown parameter "summarize_wal" for Postgres 15' },
    ]);
  });
});
