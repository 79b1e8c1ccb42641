import { describe, expect, it } from 'vitest';
import type { RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { bootstrapFromRestored, restoreOptions, restoreScript } from '../../activities/backup/restore-script.js';
import { inContainer } from '../../activities/docker/instance-files.js';

const source = {
  source_database_id: 'shop', source_node_name: 'n1', source_database_name: 'shop',
  repository: { type: 'posix', base_path: '/backups' },
  restore_options: { type: 'time', target: '2026-01-01 10:00:00+00' },
} as RestoreConfigSpec;

describe('restoreOptions', () => {
  it('restores to the source\'s own target', () => {
    expect(restoreOptions(source)).toEqual({ type: 'time', target: '2026-01-01 10:00:00+00' });
  });

  it('recovers a node added from a backup to just before its join position', () => {
    expect(restoreOptions(source, '0/3000060')).toEqual({ type: 'lsn', target: '0/3000060', 'target-exclusive': '' });
  });
});

describe('restoreScript', () => {
  const lines = (script: string) => script.split('\n');

  it('restores with --delta and the target from the configuration on its tmpfs, then moves pgdata aside', () => {
    expect(inContainer.restoreConfig.startsWith(`${inContainer.pgbackrestDir}/`)).toBe(true); // not in the volume
    expect(lines(restoreScript(restoreOptions(source)))).toEqual([
      'set -e',
      `if [ -d ${inContainer.restoredData} ] && [ ! -d ${inContainer.pgdata} ]; then mv ${inContainer.restoredData} ${inContainer.pgdata}; fi`,
      `rm -f ${inContainer.pgdata}/postmaster.pid`,
      `pgbackrest --config=${inContainer.restoreConfig} --stanza=db restore '--delta' '--type=time' '--target=2026-01-01 10:00:00+00' '--target-action=promote'`,
      `mv ${inContainer.pgdata} ${inContainer.restoredData}`,
    ]);
  });

  it('ends a joining node\'s recovery in the one-off container, turning the backup\'s subscriptions off, before moving pgdata aside', () => {
    const script = lines(restoreScript(restoreOptions(source, '0/3000060'), { database: "o'shop", subscriptionsOff: 'SELECT 1' }));
    const psql = script.findIndex((l) => l.startsWith('psql '));
    expect(script[psql]).toBe(`psql -h /tmp -U postgres -d 'o'\\''shop' -v ON_ERROR_STOP=1 -Atc 'SELECT 1'`);
    expect(psql).toBeGreaterThan(script.findIndex((l) => l.startsWith('pgbackrest ')));
    expect(script.at(-1)).toBe(`mv ${inContainer.pgdata} ${inContainer.restoredData}`);
    expect(script.some((l) => l.includes('shared_preload_libraries= '))).toBe(true);
  });

  it('marks its run ended well as its last act, after the data is moved aside: a retry then restores no second time', () => {
    const script = lines(restoreScript(restoreOptions(source), undefined, inContainer.restoreStaged('task-1')));
    expect(script.slice(-2)).toEqual([`mv ${inContainer.pgdata} ${inContainer.restoredData}`, `touch '${inContainer.volume}/pgcp-restore-staged-task-1'`]);
    expect(script[0]).toBe('set -e'); // a failed step leaves no marker
  });

  it('leaves the restored data where Patroni\'s bootstrap takes it from', () => {
    expect(bootstrapFromRestored).toBe(`mv ${inContainer.restoredData} ${inContainer.pgdata}`);
  });
});
