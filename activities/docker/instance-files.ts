// Pure: where an instance's files are. On the host, one directory per instance under the host's data directory
// (0700) with copies of its repositories' CA files; no secret there: Patroni's and pgBackRest's configurations (a
// restore's too) live on tmpfs mounts inside the instance's containers (instance-boot.ts), delivered at each start. In the instance's volume, the data directory and what
// a restore leaves beside it. The pgBackRest paths inside the container are the model's (its commands name them).
import path from 'node:path';
import { createRestoreConfigPath, legacyRestoreConfigPath, pgbackrestConfigPath, restoreConfigPath } from '../../workflows/model/backup.js';

/** The host files of one instance. */
export interface InstanceHostFiles {
  /** The instance's directory, made 0700. */
  dir: string;
  /**
   * Secret files an earlier version kept here (Patroni's and pgBackRest's configurations, a restore's source while
   * it ran): removed once its container is made again.
   */
  legacy: string[];
  /** Copies of the repositories' CA files (storage-ca-file), mounted read-only instead of the host paths. */
  caDir: string;
}

export function instanceHostFiles(dataDir: string, instanceId: string): InstanceHostFiles {
  const dir = path.join(dataDir, 'instances', instanceId);
  return {
    dir,
    legacy: ['patroni.yml', 'pgbackrest.conf', 'pgbackrest-restore.conf', 'pgbackrest-restore-source.conf', 'pgbackrest-restore-check.conf'].map((f) => path.join(dir, f)),
    caDir: path.join(dir, 'ca'),
  };
}

/** File modes: the directory 0700. */
export const fileModes = { dir: 0o700 } as const;

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
  /** tmpfs: the configuration of a restore source checked before anything stops (its one-off container's). */
  restoreSource: '/run/pgcp/restore-source.conf',
  volume,
  /** Postgres's data directory (Patroni's data_dir). */
  pgdata: `${volume}/pgdata`,
  /** tmpfs: an in-place restore's configuration, in its one-off container and in the instance until it leads. */
  restoreConfig: restoreConfigPath,
  /** An earlier version's in-place restore configuration, in the volume. */
  legacyRestoreConfig: legacyRestoreConfigPath,
  /** Restored data waiting for Patroni's bootstrap to move it to pgdata. */
  restoredData: `${volume}/pgdata-restore`,
  /** Marks a restore done by this task: a retried or resumed restore skips to its end. */
  restoreMarker: (taskId: string) => `${volume}/pgcp-restored-${taskId}`,
  /** Left by this task's restore run once its data is restored and moved aside: a retry starts the instance on it. */
  restoreStaged: (taskId: string) => `${volume}/pgcp-restore-staged-${taskId}`,
} as const;
