// Instance containers: Patroni managing Postgres, one container + one volume per instance. Check-then-act, so
// every activity can be retried and re-run.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { ids } from '../../workflows/model/ids.js';
import { mountedTypes, repositoryDockerMounts } from '../../workflows/model/backup-repository.js';
import { archiveCommand, nodeBackupConfig, pgbackrestConfig, pgbackrestRestoreConfig, restoreBootstrapCommand } from '../../workflows/model/backup.js';
import { effectiveConf, effectiveLines } from '../../workflows/model/instances.js';
import { parseCpus, parseMemory } from '../../workflows/model/resources.js';
import type { HostDeps } from '../deps.js';
import { FailureType } from '../errors.js';
import { activityNamespace, findInstance, imageFor, loadDatabase, pollUntil, type DatabaseContext } from '../instance-context.js';
import type { InstancePlan } from '../../workflows/model/instances.js';
import { patroniConfig } from '../patroni/config.js';
import { getPatroniStatus } from '../patroni/client.js';
import { connectInstance } from '../postgres/connect.js';
import { getInstance } from '../../store/databases.js';
import { inspectContainerOrNull, inspectImageOrNull, labels, removeContainer, startContainer } from './client.js';
import { databaseLabels, instanceContainerOptions } from './instance-spec.js';
import { instanceAddress, memberConnectAddress } from '../addresses.js';
import { ensureNetwork, removeNetwork } from './network.js';

export interface InstanceRef { databaseId: string; instanceId: string }

export function configPath(deps: HostDeps, instanceId: string): string {
  return path.join(deps.dataDir, 'instances', instanceId, 'patroni.yml');
}

/**
 * The instance's Patroni configuration file (0600: it holds passwords), read by the container at start. `bootstrap`
 * replaces initdb once (a restore: Patroni moves the restored data in and lets Postgres finish its recovery).
 */
export async function writePatroniConfig(deps: HostDeps, db: DatabaseContext, plan: InstancePlan, bootstrap?: { command: string }): Promise<void> {
  const file = configPath(deps, plan.instanceId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
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
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
}

export function instanceActivities(deps: HostDeps) {
  const { docker } = deps;
  const address = (databaseId: string, instanceId: string) => instanceAddress(deps, databaseId, instanceId);

  return {
    /** Network, volume, Patroni config and a running container for one instance; recreated when its spec drifted. */
    async ensureInstance({ databaseId, instanceId }: InstanceRef): Promise<{ containerId: string; recreated: boolean }> {
      const db = await loadDatabase(deps.store, databaseId);
      const plan = findInstance(db, instanceId);
      if (plan.hostId !== deps.hostId) throw ApplicationFailure.nonRetryable(`instance ${instanceId} belongs to ${plan.hostId}, not ${deps.hostId}`, FailureType.invalidSpec);
      const image = imageFor(plan);
      if (!(await inspectImageOrNull(docker, image.image))) {
        throw ApplicationFailure.nonRetryable(`image ${image.image} is not built on ${deps.hostId}: run npm run setup`, FailureType.imageMissing);
      }
      const namespace = activityNamespace();
      const network = ids.network(databaseId);
      await ensureNetwork(docker, network, databaseLabels(databaseId, namespace)); // the plan made it; a retry may not find it
      const volume = ids.volume(instanceId);
      await docker.createVolume({ Name: volume, Labels: { ...databaseLabels(databaseId, namespace), [labels.instanceId]: instanceId } });

      const file = configPath(deps, instanceId);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const backups = nodeBackupConfig(db.spec, plan.nodeName);
      // pgBackRest reads its configuration as postgres inside: 0644, in this host's 0700 directory (object store
      // keys are in it)
      const backupFile = path.join(path.dirname(file), 'pgbackrest.conf');
      if (backups) {
        await writeFile(backupFile, pgbackrestConfig(backups, databaseId, plan.nodeName), { mode: 0o644 });
        for (const r of backups.repositories) if (mountedTypes.includes(r.type)) await mkdir(r.base_path!, { recursive: true });
      }
      // Created from a backup: the node's first instance bootstraps with a pgBackRest restore instead of initdb.
      const rc = db.spec.restore_config;
      const restoreFile = path.join(path.dirname(file), 'pgbackrest-restore.conf');
      if (rc) await writeFile(restoreFile, pgbackrestRestoreConfig(rc), { mode: 0o644 });
      await writePatroniConfig(deps, db, plan, rc && plan.initialRole === 'primary' ? { command: restoreBootstrapCommand(rc) } : undefined);
      const mounts = repositoryDockerMounts([...(backups?.repositories ?? []), ...(rc ? [rc.repository] : [])]);

      const options = instanceContainerOptions({
        instanceId, databaseId, nodeName: plan.nodeName, hostId: plan.hostId, namespace, image: image.image, network, volume,
        configPath: file, hostAddress: deps.hostAddress, extraHosts: deps.containerExtraHosts,
        backup: backups || rc ? { configPath: backups ? backupFile : null, restoreConfigPath: rc ? restoreFile : null, mounts } : null, port: plan.port, patroniPort: plan.patroniPort,
        nanoCpus: plan.cpus ? parseCpus(plan.cpus) : null, memoryBytes: plan.memory ? parseMemory(plan.memory) : null,
      });
      const existing = await inspectContainerOrNull(docker, instanceId);
      const drifted = existing !== null && existing.Config.Labels?.[labels.specHash] !== options.Labels?.[labels.specHash];
      if (drifted) await removeContainer(docker, instanceId); // the volume keeps the data
      const container = existing && !drifted ? docker.getContainer(instanceId) : await docker.createContainer(options);
      // stop-instance: the user wants it down; an update keeps it so (start-instance brings it back)
      if ((await getInstance(deps.store, instanceId))?.stopped) return { containerId: container.id, recreated: drifted };
      try {
        await startContainer(container);
      } catch (err) {
        // Something else holds the node's port on this host: retrying will not free it.
        if (/port is already allocated|address already in use/i.test(String((err as Error).message))) {
          throw ApplicationFailure.nonRetryable(`port ${plan.port} on ${deps.hostId} (${deps.hostAddress}) is already in use: choose another port for node ${plan.nodeName}`, FailureType.invalidSpec);
        }
        throw err;
      }
      return { containerId: container.id, recreated: drifted };
    },

    /** Waits until Patroni runs Postgres in this instance and it accepts connections; returns the role it holds. */
    async waitForInstance({ databaseId, instanceId }: InstanceRef): Promise<{ role: 'primary' | 'replica' }> {
      const db = await loadDatabase(deps.store, databaseId);
      if ((await getInstance(deps.store, instanceId))?.stopped) return { role: 'replica' }; // stopped on purpose: not waited for
      return pollUntil<{ role: 'primary' | 'replica' }>(`instance ${instanceId}`, 5 * 60_000, async () => {
        const ip = await address(databaseId, instanceId);
        if (!ip) return { waiting: 'container is not running' };
        const status = await getPatroniStatus(ip);
        if (!status) return { waiting: 'Patroni does not answer yet' };
        if (status.state !== 'running' || status.role === 'unknown') return { waiting: `Patroni state ${status.state}, role ${status.role}` };
        const client = await connectInstance(ip, db.secrets, 'postgres').catch(() => null);
        if (!client) return { waiting: 'Postgres does not accept connections yet' };
        await client.end();
        return { role: status.role };
      });
    },

    /** Container, volume and config of one instance; absent pieces are fine. */
    async removeInstance({ instanceId }: InstanceRef): Promise<void> {
      await removeContainer(docker, instanceId);
      try {
        await docker.getVolume(ids.volume(instanceId)).remove({ force: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      await rm(path.dirname(configPath(deps, instanceId)), { recursive: true, force: true });
    },

    async ensureDatabaseNetwork({ databaseId }: { databaseId: string }): Promise<void> {
      await ensureNetwork(docker, ids.network(databaseId), databaseLabels(databaseId, activityNamespace()));
    },

    async removeDatabaseNetwork({ databaseId }: { databaseId: string }): Promise<void> {
      await removeNetwork(docker, ids.network(databaseId));
    },
  };
}

export type InstanceActivities = ReturnType<typeof instanceActivities>;
