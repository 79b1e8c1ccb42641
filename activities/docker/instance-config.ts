// Writes an instance's host files (where they are: instance-files.ts) from its database's spec: Patroni's
// configuration, read by the container at start, and pgBackRest's when the node has backups or the database was
// created from a backup. Removed with the instance.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { effectiveSwarm, ownRepositoryDirs } from '../../workflows/model/orchestrator-opts.js';
import { hostPathCheck } from '../../platform/host-paths.js';
import { FailureType, permanent } from '../errors.js';
import { repositoryDirs } from '../../workflows/model/backup-repository.js';
import { getJoinedNodes, getRepositoryCipherPass } from '../../store/databases.js';
import { copyCaFiles, prepareRepositoryDirs, repositoryPolicy } from '../backup/repository-host.js';
import { archiveCommand, nodeBackupConfig, pgbackrestConfig, pgbackrestRestoreConfig, restoreBootstrapCommand } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { effectiveConf, effectiveLines, type InstancePlan } from '../../workflows/model/instances.js';
import { memberConnectAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { ensureDatabaseEtcdUser, etcdDatabaseUser } from '../etcd.js';
import { patroniConfig } from '../patroni/config.js';
import { fileModes, instanceHostFiles, type InstanceHostFiles } from './instance-files.js';

/**
 * The instance's Patroni configuration file, in its 0700 directory. With etcd authentication on, the database's own
 * etcd user (readwrite on its keys only) is made first and is what Patroni gets; etcd's root credential stays here. `bootstrap` replaces initdb once (a restore:
 * Patroni moves the restored data in and lets Postgres finish its recovery).
 */
export async function writePatroniConfig(deps: HostDeps, db: DatabaseContext, plan: InstancePlan, bootstrap?: { command: string }): Promise<void> {
  const files = instanceHostFiles(deps.dataDir, plan.instanceId);
  await mkdir(files.dir, { recursive: true, mode: fileModes.dir });
  // A joined host's agent holds its own etcd user, which cannot make users: the control plane made this one
  // (recordInstances) before any instance step of the operation.
  if (deps.etcd.authenticated && deps.etcd.canManageUsers) await ensureDatabaseEtcdUser(deps.etcd, db.databaseId, db.secrets.etcdPassword);
  const config = patroniConfig({
    instanceId: plan.instanceId,
    scope: ids.patroniScope(db.databaseId, plan.nodeName),
    etcdHosts: deps.etcdHostsForContainers,
    etcdCredentials: deps.etcd.authenticated ? { username: etcdDatabaseUser(db.databaseId), password: db.secrets.etcdPassword } : null,
    restApiPassword: db.secrets.patroniApiPassword,
    pgMajor: plan.postgresMajor,
    superuserPassword: db.secrets.superuserPassword,
    replicationPassword: db.secrets.replicationPassword,
    conf: effectiveConf(db.spec, plan.nodeName),
    hba: effectiveLines(db.spec, plan.nodeName, 'pg_hba_conf'),
    ident: effectiveLines(db.spec, plan.nodeName, 'pg_ident_conf'),
    archiveCommand: archiveCommand(nodeBackupConfig(db.spec, plan.nodeName)),
    connectAddress: memberConnectAddress(db.topology, db.instances, plan),
  });
  if (bootstrap) {
    const b = config.bootstrap as Record<string, unknown>;
    b.method = 'pgcp_restore';
    b.pgcp_restore = { command: bootstrap.command, no_params: true, keep_existing_recovery_conf: true };
  }
  await writeFile(files.patroniConfig, JSON.stringify(config, null, 2), { mode: fileModes.patroniConfig });
}

/**
 * The passphrase of a restore source's repositories: the database's own, or — a restore from another database's
 * backups — that database's while the store still holds it (a deleted database takes its passphrase with it).
 */
export async function sourceCipherPass(deps: HostDeps, db: DatabaseContext, sourceDatabaseId: string): Promise<string | null> {
  return sourceDatabaseId === db.databaseId ? db.secrets.repositoryCipherPass ?? null : getRepositoryCipherPass(deps.store, sourceDatabaseId);
}

/**
 * Every host file the instance's container mounts: pgBackRest's configuration and the repositories' directories
 * (the database's own, checked and made without following links) when the node has backups, with copies of their CA
 * files; the restore configuration when the database was created from a backup (the node's first instance then
 * bootstraps with a pgBackRest restore instead of initdb); Patroni's.
 */
export async function ensureInstanceFiles(deps: HostDeps, db: DatabaseContext, plan: InstancePlan): Promise<InstanceHostFiles> {
  const files = instanceHostFiles(deps.dataDir, plan.instanceId);
  await mkdir(files.dir, { recursive: true, mode: fileModes.dir });
  const backups = nodeBackupConfig(db.spec, plan.nodeName);
  const rc = db.spec.restore_config;
  // the extra volumes' host paths, checked again on this host (the API checked them where it could see them)
  for (const v of effectiveSwarm(db.spec, plan.nodeName).extra_volumes ?? []) {
    const issue = await hostPathCheck(v.host_path, repositoryPolicy(deps));
    if (issue) throw permanent(FailureType.invalidSpec, `extra volume ${v.host_path}: ${issue}`);
  }
  // a repository directory inside an extra volume is that volume's (pgBackRest makes what it needs below it)
  await prepareRepositoryDirs(deps, ownRepositoryDirs(db.spec, plan.nodeName, repositoryDirs(db.databaseId, backups?.repositories ?? [], rc)));
  await copyCaFiles(deps, [...(backups?.repositories ?? []), ...(rc ? [rc.repository] : [])], files.caDir);
  if (backups) {
    await writeFile(files.pgbackrestConfig, pgbackrestConfig(backups, db.databaseId, plan.nodeName, db.secrets.repositoryCipherPass), { mode: fileModes.pgbackrest });
  }
  if (rc) await writeFile(files.createRestoreConfig, pgbackrestRestoreConfig(rc, await sourceCipherPass(deps, db, rc.source_database_id)), { mode: fileModes.pgbackrest });
  // Only while the database is being created (no node has joined yet): a node added later joins from a source node
  // or its own restore_config, and must not start from the database's creation backup.
  const creating = rc ? (await getJoinedNodes(deps.store, db.databaseId)).length === 0 : false;
  await writePatroniConfig(deps, db, plan, rc && creating && plan.initialRole === 'primary' ? { command: restoreBootstrapCommand(rc) } : undefined);
  return files;
}

export async function removeInstanceFiles(deps: HostDeps, instanceId: string): Promise<void> {
  await rm(instanceHostFiles(deps.dataDir, instanceId).dir, { recursive: true, force: true });
}
