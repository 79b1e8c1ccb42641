// Control-plane activities: the store's side of an operation (records and states) and the DCS cleanup.
import { ids } from '../../workflows/model/ids.js';
import { redactSpec } from '../../workflows/model/redact.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import type { ControlPlaneDeps } from '../deps.js';
import { deletePrefix, patroniPrefix } from '../etcd.js';
import { deleteDatabase, deleteInstance, getDatabase, listInstances, setInstanceStates, transitionDatabase, upsertInstance, type DatabaseState } from './databases.js';

export interface RecordedInstance { id: string; nodeName: string; hostId: string }

export function storeActivities(deps: ControlPlaneDeps) {
  const { store } = deps;
  return {
    /** The desired spec without secrets (it lands in the workflow history), or null when the database is gone. */
    async getDatabaseSpec({ databaseId }: { databaseId: string }): Promise<DatabaseSpec | null> {
      const db = await getDatabase(store, databaseId);
      return db ? redactSpec(db.spec) : null;
    },

    /** The plan, recorded as this activity's input so the task log shows it before anything runs. */
    async recordPlan(_input: { lines: string[] }): Promise<void> {},

    /** Instance records for the planned instances; records of instances no longer planned are dropped. */
    async recordInstances({ databaseId, instances, state }: { databaseId: string; instances: RecordedInstance[]; state: string }): Promise<void> {
      for (const i of instances) await upsertInstance(store, { id: i.id, databaseId, nodeName: i.nodeName, hostId: i.hostId, state });
      const keep = new Set(instances.map((i) => i.id));
      for (const existing of await listInstances(store, databaseId)) {
        if (!keep.has(existing.id)) await deleteInstance(store, existing.id);
      }
    },

    /** Database state, and the instances' with it (`available` instances show the monitor's view). */
    async setDatabaseState({ databaseId, state, instanceState, error }: { databaseId: string; state: DatabaseState; instanceState?: string; error?: string }): Promise<void> {
      await transitionDatabase(store, databaseId, 'any', state);
      if (instanceState) {
        const inProgress = instanceState === 'failed' ? ['creating', 'modifying', 'deleting'] : undefined;
        await setInstanceStates(store, databaseId, instanceState, error ?? null, inProgress);
      }
    },

    async removeDatabaseRecord({ databaseId }: { databaseId: string }): Promise<void> {
      await deleteDatabase(store, databaseId);
    },

    /** Patroni's keys of these nodes in etcd: a new cluster must not meet a deleted one's leftovers. */
    async clearNodeDcs({ databaseId, nodeNames }: { databaseId: string; nodeNames: string[] }): Promise<number> {
      let deleted = 0;
      for (const n of nodeNames) deleted += await deletePrefix(deps.etcdUrl, patroniPrefix(ids.patroniScope(databaseId, n)));
      return deleted;
    },
  };
}

export type StoreActivities = ReturnType<typeof storeActivities>;
