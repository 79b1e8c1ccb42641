// Pure: where an instance's files are. On the host, one directory per instance under the host's data directory
// (0700: the files hold passwords and repository keys) with Patroni's and pgBackRest's configuration; inside the
// container, where each of them is mounted; in the instance's volume, the data directory and what a restore leaves
// beside it. The pgBackRest paths inside the container are the model's (its command lines and configs name them).
import path from 'node:path';
import { createRestoreConfigPath, pgbackrestConfigPath, restoreConfigPath } from '../../workflows/model/backup.js';

/** The host files of one instance. */
export interface InstanceHostFiles {
  /** The instance's directory, made 0700. */
  dir: string;
  /** Patroni's configuration (0600: passwords). */
  patroniConfig: string;
  /** The node's pgBackRest configuration, when it has backups. */
  pgbackrestConfig: string;
  /** The restore configuration of a database created from a backup. */
  createRestoreConfig: string;
  /** An in-place restore's source (with its keys), there only while the one-off container copies it. */
  restoreSource: string;
  /** Copies of the repositories' CA files (storage-ca-file), mounted read-only instead of the host paths. */
  caDir: string;
  /** A restore source checked before anything stops (with its keys), there only while pgBackRest reads it. */
  restoreCheck: string;
}

export function instanceHostFiles(dataDir: string, instanceId: string): InstanceHostFiles {
  const dir = path.join(dataDir, 'instances', instanceId);
  return {
    dir,
    patroniConfig: path.join(dir, 'patroni.yml'),
    pgbackrestConfig: path.join(dir, 'pgbackrest.conf'),
    createRestoreConfig: path.join(dir, 'pgbackrest-restore.conf'),
    restoreSource: path.join(dir, 'pgbackrest-restore-source.conf'),
    caDir: path.join(dir, 'ca'),
    restoreCheck: path.join(dir, 'pgbackrest-restore-check.conf'),
  };
}

/**
 * File modes: the directory 0700 and Patroni's file 0600 (passwords); pgBackRest's files 0644, since postgres reads
 * them inside the container, kept private by the directory.
 */
export const fileModes = { dir: 0o700, patroniConfig: 0o600, pgbackrest: 0o644 } as const;

/** The instance's volume, mounted here in the instance container and in its one-off restore containers. */
const volume = '/var/lib/postgresql/data';

/** Paths inside the instance's containers. */
export const inContainer = {
  patroniConfig: '/run/pgcp/patroni.yml',
  pgbackrestConfig: pgbackrestConfigPath,
  createRestoreConfig: createRestoreConfigPath,
  /** Where a one-off restore container sees the restore source's host file. */
  restoreSource: '/run/pgcp/restore-source.conf',
  volume,
  /** Postgres's data directory (Patroni's data_dir). */
  pgdata: `${volume}/pgdata`,
  /** In the volume, so the restore_command the recovery uses works in the instance too; removed once it leads. */
  restoreConfig: restoreConfigPath,
  /** Restored data waiting for Patroni's bootstrap to move it to pgdata. */
  restoredData: `${volume}/pgdata-restore`,
  /** Marks a restore done by this task: a retried or resumed restore skips to its end. */
  restoreMarker: (taskId: string) => `${volume}/pgcp-restored-${taskId}`,
} as const;
