// An instance's files from its database's spec: on the host, its repositories' directories and CA copies (where
// they are: instance-files.ts), removed with the instance; inside its container, Patroni's configuration and
// pgBackRest's when the node has backups or the database was created from a backup (delivered at each start:
// instance-secrets.ts).
import { mkdir, rm } from 'node:fs/promises';
import { effectiveSwarm, ownRepositoryDirs } from '../../workflows/model/orchestrator-opts.js';
import { hostPathCheck } from '../../platform/host-paths.js';
import { FailureType, permanent } from '../errors.js';
import { repositoryDirs } from '../../workflows/model/backup-repository.js';
import { getJoinedNodes, getRepositoryCipherPass } from '../../store/databases.js';
import { getInstanceRestoreSource } from '../../store/instances.js';
import { copyCaFiles, prepareRepositoryDirs, repositoryPolicy } from '../backup/repository-host.js';
import { archiveCommand, nodeBackupConfig, pgbackrestConfig, pgbackrestRestoreConfig, restoreBootstrapCommand } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { effectiveConf, effectiveLines, type InstancePlan } from '../../workflows/model/instances.js';
import { memberConnectAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { ensureDatabaseEtcdUser, etcdDatabaseUser } from '../etcd.js';
import { patroniConfig, superUser } from '../patroni/config.js';
import { fileModes, inContainer, instanceHostFiles, type InstanceHostFiles } from './instance-files.js';
import type { Delivery } from './instance-boot.js';
import { bootstrapFromRestored } from '../backup/restore-script.js';

/**
 * The instance's Patroni configuration. With etcd authentication on, the database's own etcd user (readwrite on its
 * keys only) is made first and is what Patroni gets; etcd's root credential stays with the control plane.
 * `bootstrap` replaces initdb once (a restore: Patroni moves the restored data in and lets Postgres finish its
 * recovery).
 */
export async function renderPatroniConfig(deps: HostDeps, db: DatabaseContext, plan: InstancePlan, bootstrap?: { command: string }): Promise<string> {
  // A joined host's agent holds its own etcd user, which cannot make users: the control plane made this one
  // (recordInstances) before any instance step of the operation.
  if (deps.etcd.authenticated && deps.etcd.canManageUsers) await ensureDatabaseEtcdUser(deps.etcd, db.databaseId, db.secrets.etcdPassword);
  const config = patroniConfig({
    instanceId: plan.instanceId,
    scope: ids.patroniScope(db.databaseId, plan.nodeName),
    etcdHosts: deps.etcdHostsForContainers,
    etcdCredentials: deps.etcd.authenticated ? { username: etcdDatabaseUser(db.databaseId), password: db.secrets.etcdPassword } : null,
    etcdTls: deps.etcd.url.startsWith('https:') ? { caFile: deps.etcd.ca ? inContainer.etcdCa : null } : null,
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
  return JSON.stringify(config, null, 2);
}

/**
 * The passphrase of a restore source's repositories: the database's own, or — a restore from another database's
 * backups — that database's (a deleted database's passphrase is kept: store/databases.ts).
 */
export async function sourceCipherPass(deps: HostDeps, db: DatabaseContext, sourceDatabaseId: string): Promise<string | null> {
  return sourceDatabaseId === db.databaseId ? db.secrets.repositoryCipherPass ?? null : getRepositoryCipherPass(deps.store, sourceDatabaseId);
}

/**
 * The host side of an instance: its repositories' directories (the database's own, checked and made without
 * following links) when the node has backups or a restore source, with copies of their CA files. Nothing secret:
 * the configurations go into the container (instanceSecretFiles, delivered by instance-secrets.ts).
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
  return files;
}

/** An earlier version's secret files in the instance's directory, once its container no longer mounts them. */
export async function removeLegacySecretFiles(deps: HostDeps, instanceId: string): Promise<void> {
  for (const f of instanceHostFiles(deps.dataDir, instanceId).legacy) await rm(f, { force: true });
}

/**
 * Every secret file of the instance's container (path inside → content), and those it must not keep: Patroni's
 * configuration; pgBackRest's when the node has backups; the restore configuration when the database was created
 * from a backup (the node's first instance then bootstraps with a pgBackRest restore instead of initdb, while no node
 * has joined yet); an in-place restore's configuration while it is in progress (its recovery's restore_command
 * reads it; the source is sealed in the store); etcd's CA. `restoredData`: an in-place restore left its data in the
 * volume for Patroni's bootstrap to move in.
 */
export async function instanceSecretFiles(deps: HostDeps, db: DatabaseContext, plan: InstancePlan, o: { restoredData: boolean }): Promise<Delivery> {
  const backups = nodeBackupConfig(db.spec, plan.nodeName);
  const rc = db.spec.restore_config;
  const files: Record<string, string> = {};
  const remove: string[] = [];
  if (backups) files[inContainer.pgbackrestConfig] = pgbackrestConfig(backups, db.databaseId, plan.nodeName, db.secrets.repositoryCipherPass);
  else remove.push(inContainer.pgbackrestConfig);
  if (rc) files[inContainer.createRestoreConfig] = pgbackrestRestoreConfig(rc, await sourceCipherPass(deps, db, rc.source_database_id));
  else remove.push(inContainer.createRestoreConfig);
  const inPlace = await getInstanceRestoreSource(deps.store, plan.instanceId);
  if (inPlace) files[inContainer.restoreConfig] = pgbackrestRestoreConfig(inPlace, await sourceCipherPass(deps, db, inPlace.source_database_id));
  else remove.push(inContainer.restoreConfig);
  if (deps.etcd.ca) files[inContainer.etcdCa] = deps.etcd.ca; // etcd's CA, which its Patroni checks etcd's certificate against
  files[inContainer.peersPgpass] = peersPgpass(db.secrets.superuserPassword);
  // Only while the database is being created (no node has joined yet): a node added later joins from a source node
  // or its own restore_config, and must not start from the database's creation backup.
  const creating = rc ? (await getJoinedNodes(deps.store, db.databaseId)).length === 0 : false;
  const bootstrap = o.restoredData ? { command: bootstrapFromRestored }
    : rc && creating && plan.initialRole === 'primary' ? { command: restoreBootstrapCommand(rc) } : undefined;
  files[inContainer.patroniConfig] = await renderPatroniConfig(deps, db, plan, bootstrap);
  return { files, remove };
}

/** A pgpass line for the superuser on every peer (libpq's escapes: `\\` and `:`). */
export function peersPgpass(password: string): string {
  return `*:*:*:${superUser}:${password.replace(/[\\:]/g, (c) => `\\${c}`)}\n`;
}

export async function removeInstanceFiles(deps: HostDeps, instanceId: string): Promise<void> {
  await rm(instanceHostFiles(deps.dataDir, instanceId).dir, { recursive: true, force: true });
}
