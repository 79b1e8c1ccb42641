// Writes an instance's host files (where they are: instance-files.ts) from its database's spec: Patroni's
// configuration, read by the container at start, and pgBackRest's when the node has backups or the database was
// created from a backup. Removed with the instance.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { coveredByExtraVolume, effectiveSwarm } from '../../workflows/model/orchestrator-opts.js';
import { mountedTypes } from '../../workflows/model/backup-repository.js';
import { archiveCommand, nodeBackupConfig, pgbackrestConfig, pgbackrestRestoreConfig, restoreBootstrapCommand } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { effectiveConf, effectiveLines, type InstancePlan } from '../../workflows/model/instances.js';
import { memberConnectAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { patroniConfig } from '../patroni/config.js';
import { fileModes, instanceHostFiles, type InstanceHostFiles } from './instance-files.js';

/**
 * The instance's Patroni configuration file, in its 0700 directory. `bootstrap` replaces initdb once (a restore:
 * Patroni moves the restored data in and lets Postgres finish its recovery).
 */
export async function writePatroniConfig(deps: HostDeps, db: DatabaseContext, plan: InstancePlan, bootstrap?: { command: string }): Promise<void> {
  const files = instanceHostFiles(deps.dataDir, plan.instanceId);
  await mkdir(files.dir, { recursive: true, mode: fileModes.dir });
  const config = patroniConfig({
    instanceId: plan.instanceId,
    scope: ids.patroniScope(db.databaseId, plan.nodeName),
    etcdHosts: deps.etcdHostsForContainers,
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
 * Every host file the instance's container mounts: pgBackRest's configuration and the mounted repositories'
 * directories when the node has backups; the restore configuration when the database was created from a backup
 * (the node's first instance then bootstraps with a pgBackRest restore instead of initdb); Patroni's.
 */
export async function ensureInstanceFiles(deps: HostDeps, db: DatabaseContext, plan: InstancePlan): Promise<InstanceHostFiles> {
  const files = instanceHostFiles(deps.dataDir, plan.instanceId);
  await mkdir(files.dir, { recursive: true, mode: fileModes.dir });
  const backups = nodeBackupConfig(db.spec, plan.nodeName);
  if (backups) {
    await writeFile(files.pgbackrestConfig, pgbackrestConfig(backups, db.databaseId, plan.nodeName), { mode: fileModes.pgbackrest });
    // a repository inside an extra volume is that volume's business (it must exist); others are made here
    const volumes = effectiveSwarm(db.spec, plan.nodeName).extra_volumes ?? [];
    for (const r of backups.repositories) if (mountedTypes.includes(r.type) && !coveredByExtraVolume(volumes, r.base_path!)) await mkdir(r.base_path!, { recursive: true });
  }
  const rc = db.spec.restore_config;
  if (rc) await writeFile(files.createRestoreConfig, pgbackrestRestoreConfig(rc), { mode: fileModes.pgbackrest });
  await writePatroniConfig(deps, db, plan, rc && plan.initialRole === 'primary' ? { command: restoreBootstrapCommand(rc) } : undefined);
  return files;
}

export async function removeInstanceFiles(deps: HostDeps, instanceId: string): Promise<void> {
  await rm(instanceHostFiles(deps.dataDir, instanceId).dir, { recursive: true, force: true });
}
