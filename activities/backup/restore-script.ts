// Pure: what the one-off container of an in-place restore runs, and the pgBackRest options it restores with. The
// script restores pgdata with pgBackRest, reading the source's configuration from its tmpfs (delivered as an
// instance's: restore-steps.ts), and moves the result aside (Patroni's bootstrap moves it back); a node added from a backup also ends its recovery there.
import type { RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { pgbackrestCommand, restoreFlags } from '../../workflows/model/backup.js';
import { inContainer } from '../docker/instance-files.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const { pgdata, restoredData, restoreConfig } = inContainer;

/** The parameters pgBackRest's recovery sets (postgresql.auto.conf); reset after any restore. */
export const recoverySettings = ['restore_command', 'recovery_target', 'recovery_target_lsn', 'recovery_target_name', 'recovery_target_time',
  'recovery_target_xid', 'recovery_target_inclusive', 'recovery_target_action', 'recovery_target_timeline'];

/** The source's restore_options; a node added from a backup recovers up to just before `joinAt` instead. */
export function restoreOptions(source: RestoreConfigSpec, joinAt?: string): Record<string, string> | undefined {
  return joinAt ? { ...source.restore_options, type: 'lsn', target: joinAt, 'target-exclusive': '' } : source.restore_options;
}

/**
 * A joining node's recovery ends in the one-off container, with the replication layer not loaded and only a local
 * socket: the backup's subscriptions (the source's) are turned off before any of their workers could start and
 * read the source's slots on its peers. Patroni then starts from the promoted data.
 */
export function finishRecoveryQuietly(database: string, sql: string): string[] {
  const opts = `-c shared_preload_libraries= -c listen_addresses= -c unix_socket_directories=/tmp -c hba_file=/tmp/pgcp-hba -c archive_mode=off -c hot_standby=on`;
  return [
    'bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)',
    "printf 'local all all trust\\n' > /tmp/pgcp-hba",
    `"$bin/pg_ctl" -D ${pgdata} -W -l /tmp/pgcp-recovery.log -o '${opts}' start`,
    'sleep 2',
    `until [ "$(psql -h /tmp -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do`,
    `  if ! "$bin/pg_ctl" -D ${pgdata} status >/dev/null; then cat /tmp/pgcp-recovery.log; exit 1; fi`,
    '  sleep 1',
    'done',
    `psql -h /tmp -U postgres -d ${quote(database)} -v ON_ERROR_STOP=1 -Atc '${sql}'`,
    `"$bin/pg_ctl" -D ${pgdata} -w -t 600 -m fast stop`,
    'tail -3 /tmp/pgcp-recovery.log',
  ];
}

/**
 * join: with the database and the SQL turning the backup's subscriptions off, for finishRecoveryQuietly. staged: the
 * marker left once the restored data is moved aside (the run's last act), so a retry never restores again.
 */
export function restoreScript(options: Record<string, string> | undefined, join?: { database: string; subscriptionsOff: string }, staged?: string): string {
  return [
    'set -e',
    // a restore killed after the move is redone from the moved data; a stale pid file would stop Postgres
    `if [ -d ${restoredData} ] && [ ! -d ${pgdata} ]; then mv ${restoredData} ${pgdata}; fi`,
    `rm -f ${pgdata}/postmaster.pid`,
    [...pgbackrestCommand(restoreConfig, 'restore'), ...restoreFlags(options).map(quote)].join(' '),
    ...(join ? finishRecoveryQuietly(join.database, join.subscriptionsOff) : []),
    `mv ${pgdata} ${restoredData}`,
    ...(staged ? [`touch ${quote(staged)}`] : []),
  ].join('\n');
}

/** Patroni's bootstrap command after the restore: the restored data becomes pgdata, once. */
export const bootstrapFromRestored = `mv ${restoredData} ${pgdata}`;
