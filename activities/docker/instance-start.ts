// Starting an instance's container, unless the user stopped the instance: stop-instance records that in the store,
// and an update keeps it down (start-instance brings it back).
import type { InstancePlan } from '../../workflows/model/instances.js';
import { getInstance } from '../../store/databases.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import type Docker from 'dockerode';
import { startContainer } from './client.js';
import { execIn } from './exec.js';
import { inContainer } from './instance-files.js';

/** Starts the instance's container (already running is fine); returns false when the instance stays stopped. */
export async function startUnlessStopped(deps: HostDeps, plan: InstancePlan): Promise<boolean> {
  if ((await getInstance(deps.store, plan.instanceId))?.stopped) return false;
  try {
    await startContainer(deps.docker.getContainer(plan.instanceId));
  } catch (err) {
    // Something else holds the node's port on this host: retrying will not free it.
    if (/port is already allocated|address already in use/i.test(String((err as Error).message))) {
      throw permanent(FailureType.conflict, `port ${plan.port} on ${deps.hostId} (${deps.hostAddress}) is already in use: choose another port for node ${plan.nodeName}`);
    }
    throw err;
  }
  return true;
}

/**
 * A running container's Patroni reads a copy of its mounted configuration made at the container's start
 * (pgcp-entrypoint). When the mounted file changed since (a new member on another engine moves the node to
 * published addresses: a new connect_address), the copy is renewed and Patroni reloads it (SIGHUP, which tini passes
 * on): its member key then carries the new address, which a new replica's basebackup needs. True when it reloaded.
 */
export async function reloadChangedPatroniConfig(docker: Docker, instanceId: string): Promise<boolean> {
  const run = await execIn(docker, instanceId, ['sh', '-c',
    `cmp -s ${inContainer.patroniConfig} /etc/patroni/patroni.yml && exit 0; install -o postgres -g postgres -m 0600 ${inContainer.patroniConfig} /etc/patroni/patroni.yml && echo renewed`,
  ], { user: 'root' });
  if (run.exitCode !== 0) throw new Error(`renewing ${instanceId}'s Patroni configuration failed: ${run.lines.slice(-3).join(' | ')}`);
  if (!run.lines.includes('renewed')) return false;
  await docker.getContainer(instanceId).kill({ signal: 'SIGHUP' });
  return true;
}
