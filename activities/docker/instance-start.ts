// Starting an instance's container, unless the user stopped the instance: stop-instance records that in the store,
// and an update keeps it down (start-instance brings it back).
import type { InstancePlan } from '../../workflows/model/instances.js';
import { getInstance } from '../../store/databases.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import type { DatabaseContext } from '../database-context.js';
import { startInstance } from './instance-secrets.js';

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

