// Starting an instance's container, unless the user stopped the instance: stop-instance records that in the store,
// and an update keeps it down (start-instance brings it back).
import type { InstancePlan } from '../../workflows/model/instances.js';
import { getInstance } from '../../store/instances.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import type { DatabaseContext } from '../database-context.js';
import { startInstance } from './instance-secrets.js';
import { inspectContainerOrNull } from './client.js';
import { ids } from '../../workflows/model/ids.js';

/**
 * Starts the instance's container (already running is fine) and delivers its secrets (instance-secrets.ts: a
 * running Patroni reloads a changed configuration); returns false when the instance stays stopped.
 */
export async function startUnlessStopped(deps: HostDeps, db: DatabaseContext, plan: InstancePlan): Promise<boolean> {
  if ((await getInstance(deps.store, plan.instanceId))?.stopped) return false;
  try {
    await startInstance(deps, db.databaseId, plan.instanceId, db);
  } catch (err) {
    // Something else holds the node's port on this host: retrying will not free it.
    if (/port is already allocated|address already in use/i.test(String((err as Error).message))) {
      throw permanent(FailureType.conflict, `port ${plan.port} on ${deps.hostId} (${deps.hostAddress}) is already in use: choose another port for node ${plan.nodeName}`);
    }
    throw err;
  }
  return true;
}


/** How soon an exited container a task waits for is started again after the last time (it may be booting). */
const restartExitedEveryMs = 10_000;

/**
 * A container of this host's engine that a task waits for and that exited (killed, its engine restarted) is started
 * again, with its secrets, unless the user stopped the instance or a restore's one-off container holds its volume:
 * the monitor leaves a database that a task works on alone, so nothing else would. At most every 10 s per instance
 * (`startedAt` remembers). Returns what it did, for the step's waiting message; null when it did nothing.
 */
export async function restartIfExited(deps: HostDeps, databaseId: string, instanceId: string, startedAt: Map<string, number>, db?: DatabaseContext): Promise<string | null> {
  const info = await inspectContainerOrNull(deps.docker, instanceId);
  if (!info || info.State.Running || info.State.Paused || info.State.Restarting) return null;
  if (Date.now() - (startedAt.get(instanceId) ?? 0) < restartExitedEveryMs) return null;
  if ((await getInstance(deps.store, instanceId))?.stopped) return null;
  if ((await inspectContainerOrNull(deps.docker, ids.restoreContainer(instanceId)))?.State.Running) return null;
  startedAt.set(instanceId, Date.now());
  await startInstance(deps, databaseId, instanceId, db);
  return `container ${instanceId} had exited (${info.State.Status}, exit code ${info.State.ExitCode}): started again`;
}
