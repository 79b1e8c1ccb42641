// What an activity knows about a database: activities receive ids only (so workflow histories stay small and free
// of secrets) and load the rest from the store — the spec, the secrets and the planned instances.
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import { planInstances, type InstancePlan } from '../workflows/model/instances.js';
import { FailureType, permanent } from './errors.js';
import { getDatabaseSecrets, type DatabaseSecrets } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { loadTopology, type Topology } from './addresses.js';

/** The input of an activity acting on one node of a database. */
export interface NodeKey { databaseId: string; nodeName: string }
/** The input of an activity acting on one instance of a database. */
export interface InstanceKey { databaseId: string; instanceId: string }

/** topology: the hosts' addresses and engines, for instance addresses (activities/addresses.ts). */
export interface DatabaseContext { databaseId: string; spec: DatabaseSpec; secrets: DatabaseSecrets; instances: InstancePlan[]; topology: Topology }

export async function loadDatabase(store: Store, databaseId: string): Promise<DatabaseContext> {
  const row = await getDatabaseSecrets(store, databaseId);
  if (!row) throw permanent(FailureType.notFound, `database ${databaseId} not found`);
  return { databaseId, spec: row.spec, secrets: row.secrets, instances: planInstances(databaseId, row.spec), topology: await loadTopology(store) };
}

export function findInstance(db: DatabaseContext, instanceId: string): InstancePlan {
  const plan = db.instances.find((i) => i.instanceId === instanceId);
  if (!plan) throw permanent(FailureType.notFound, `instance ${instanceId} is not in the spec of ${db.databaseId}`);
  return plan;
}
