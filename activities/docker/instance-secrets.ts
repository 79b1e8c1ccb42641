// Delivering an instance's secret files into its running container (instance-boot.ts says why and where). Every
// path that starts an instance container goes through startInstance (create and update, start-instance, an
// in-place restore) or deliverInstanceSecrets (the monitor, after Docker or a host reboot started it), so its
// Patroni, waiting for them, starts. Idempotent: unchanged files are left alone; a running Patroni whose
// configuration changed reloads it (SIGHUP, which tini passes on).
import type Docker from 'dockerode';
import { findInstance, loadDatabase, type DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { startContainer } from './client.js';
import { execIn } from './exec.js';
import { afterDelivery, instanceSecretMount, readyFile, secretTmpfs, type Delivery } from './instance-boot.js';
import { runOneOff, type OneOffSpec } from './one-off.js';
import { deliverFiles as deliverInto, hasTmpfsFor, type DeliveryResult } from './secret-delivery.js';
import { instanceSecretFiles } from './instance-config.js';
import { inContainer } from './instance-files.js';

export interface DeliveryOutcome { delivered: boolean; changed: string[]; reloaded: boolean }

/** Whether the container keeps its secret files in memory (an earlier version's mounted them from the host). */
export async function hasSecretMounts(docker: Docker, instanceId: string): Promise<boolean> {
  return secretMountsOf(await docker.getContainer(instanceId).inspect());
}

export function secretMountsOf(info: Docker.ContainerInspectInfo): boolean {
  return hasTmpfsFor(info, instanceSecretMount);
}

/** What the monitor reports on an instance whose container an earlier version made. */
export const legacyContainerNote = 'its container was made by an earlier version (configuration in host files, no etcd credentials once etcd requires them): an update of the database makes it again';

/**
 * The instance's secret files delivered into its running container. `onlyIfWaiting`: only when it waits for them
 * (the monitor's check of a container something else started).
 */
export async function deliverInstanceSecrets(deps: HostDeps, databaseId: string, instanceId: string, o: { onlyIfWaiting?: boolean; db?: DatabaseContext } = {}): Promise<DeliveryOutcome> {
  const none = { delivered: false, changed: [], reloaded: false };
  // never into a container's writable layer, which lies on the host's disk
  if (!(await hasSecretMounts(deps.docker, instanceId))) {
    if (o.onlyIfWaiting) return none;
    throw new Error(`instance ${instanceId}'s container has no in-memory mounts for its secrets: an update makes it again`);
  }
  const probe = await execIn(deps.docker, instanceId, ['sh', '-c', `test -f ${readyFile} && echo ready; test -d ${inContainer.restoredData} && echo restored; true`], { user: 'root' });
  if (probe.exitCode !== 0) throw new Error(`instance ${instanceId}: cannot look into its container: ${probe.lines.slice(-2).join(' | ')}`);
  if (o.onlyIfWaiting && probe.lines.includes('ready')) return none;
  const db = o.db ?? await loadDatabase(deps.store, databaseId);
  const delivery = await instanceSecretFiles(deps, db, findInstance(db, instanceId), { restoredData: probe.lines.includes('restored') });
  const result = await deliverFiles(deps.docker, instanceId, delivery);
  // a Patroni that started from an earlier delivery reads its file again; one that waited starts with this one
  const reloaded = result.wasReady && result.changed.includes(inContainer.patroniConfig);
  if (reloaded) await deps.docker.getContainer(instanceId).kill({ signal: 'SIGHUP' });
  return { delivered: true, changed: result.changed, reloaded };
}

/** A delivery into a running container with the instance's secret mounts: the files on stdin, the ready marker last. */
export async function deliverFiles(docker: Docker, containerId: string, delivery: Delivery): Promise<DeliveryResult> {
  return deliverInto(docker, containerId, instanceSecretMount, delivery, { what: containerId });
}

/**
 * A one-off container (a restore's) whose script reads secret files: they live on its own tmpfs mounts, as an
 * instance's, delivered once it has started; the script waits for them. Nothing of them reaches the host's disk.
 */
export async function runOneOffWithSecrets(docker: Docker, o: OneOffSpec, files: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  return runOneOff(docker, {
    ...o,
    script: afterDelivery(o.script),
    hostConfig: { ...o.hostConfig, Tmpfs: { ...o.hostConfig.Tmpfs, ...secretTmpfs() } },
    afterStart: async (id) => { await deliverFiles(docker, id, { files, remove: [] }); },
  });
}

/**
 * Starts the instance's container (already running is fine) and delivers its secrets, which its Patroni waits for.
 * A container made by an earlier version reads its configuration from its host files until an update makes it again.
 */
export async function startInstance(deps: HostDeps, databaseId: string, instanceId: string, db?: DatabaseContext): Promise<DeliveryOutcome> {
  await startContainer(deps.docker.getContainer(instanceId));
  if (!(await hasSecretMounts(deps.docker, instanceId))) return { delivered: false, changed: [], reloaded: false };
  return deliverInstanceSecrets(deps, databaseId, instanceId, { db });
}
