// Pure: where an instance's files are. On the host, one directory per instance under the host's data directory
// (0700) with copies of its repositories' CA files, and a restore's source configuration only while a one-off
// container reads it; no secret stays there: Patroni's and pgBackRest's configurations live on tmpfs mounts inside
// the container (instance-boot.ts), delivered at each start. In the instance's volume, the data directory and what
// a restore leaves beside it. The pgBackRest paths inside the container are the model's (its commands name them).
import path from 'node:path';
import { createRestoreConfigPath, pgbackrestConfigPath, restoreConfigPath } from '../../workflows/model/backup.js';

/** The host files of one instance. */
export interface InstanceHostFiles {
  /** The instance's directory, made 0700. */
  dir: string;
  /** Secret files an earlier version kept here (Patroni's and pgBackRest's configurations): removed once its container is made again. */
  legacy: string[];
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
    legacy: ['patroni.yml', 'pgbackrest.conf', 'pgbackrest-restore.conf'].map((f) => path.join(dir, f)),
    restoreSource: path.join(dir, 'pgbackrest-restore-source.conf'),
    caDir: path.join(dir, 'ca'),
    restoreCheck: path.join(dir, 'pgbackrest-restore-check.conf'),
  };
}

/**
 * File modes: the directory 0700; a restore source's configuration 0644 while a one-off container reads it as
 * postgres, kept private by the directory.
 */
export const fileModes = { dir: 0o700, pgbackrest: 0o644 } as const;

/** The instance's volume, mounted here in the instance container and in its one-off restore containers. */
const volume = '/var/lib/postgresql/data';

/** Paths inside the instance's containers. */
export const inContainer = {
  /** tmpfs: Patroni's configuration and pgpass, the etcd CA. */
  secretDir: '/run/pgcp',
  patroniConfig: '/run/pgcp/patroni.yml',
  pgpass: '/run/pgcp/pgpass',
  /** The superuser's password for the replication layer's connections to peers (its DSNs name this file). */
  peersPgpass: '/run/pgcp/peers.pgpass',
  etcdCa: '/run/pgcp/etcd-ca.pem',
  /** tmpfs: pgBackRest's configurations (the model's paths); the CA copies are bind-mounted below it. */
  pgbackrestDir: path.posix.dirname(pgbackrestConfigPath),
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
