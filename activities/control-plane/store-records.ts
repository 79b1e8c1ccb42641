// Control-plane activities: the store's side of an operation (records and states, the database's lock) and the DCS
// cleanup.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { FailureType, permanent } from '../errors.js';
import { pollUntil } from '../heartbeats.js';
import { ids } from '../../workflows/model/ids.js';
import { redactSpec } from '../../workflows/model/redact.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import type { ControlPlaneDeps } from '../deps.js';
import { deleteIfValue, deletePrefix, removeDatabaseEtcdUser } from '../etcd.js';
import { deleteHost } from '../../store/hosts.js';
import { getDatabaseSecrets } from '../../store/databases.js';
import { ensureDatabaseEtcdUser } from '../etcd.js';
import { revokeHostCredentials } from './host-credentials.js';
import { deleteServiceInstance, failServiceInstancesInProgress, listServiceInstances } from '../../store/services.js';
import { serviceIds } from '../../workflows/model/services.js';
import { deleteDatabase, getDatabaseLock, getDatabase, getJoinedNodes, lockDatabase, setDatabaseStateAsTask, setNodesJoined, setRestoreSecrets, transitionalStates, unlockDatabase, type DatabaseState } from '../../store/databases.js';
import { deleteInstance, setInstanceState, listInstances, setInstanceStates, upsertInstance } from '../../store/instances.js';

/** The task (workflow id) whose activity this is: the one the database's lock names. */
function callingTask(): string {
  const id = Context.current().info.workflowExecution?.workflowId;
  if (!id) throw permanent(FailureType.misconfigured, 'a database task step runs outside a workflow');
  return id;
}

export interface RecordedInstance { id: string; nodeName: string; hostId: string }

export function storeActivities(deps: ControlPlaneDeps) {
  const { store } = deps;
  return {
    /**
     * Fast failover: deletes node `nodeName`'s Patroni leader key if `member` (a primary whose container is gone)
     * still holds it, so the replicas race for it now instead of waiting out its ttl. Compare-and-delete: a key
     * another member took meanwhile is left alone. Returns whether this call released it.
     */
    async releaseLeaderKey({ databaseId, nodeName, member }: { databaseId: string; nodeName: string; member: string }): Promise<{ released: boolean }> {
      return { released: await deleteIfValue(deps.etcd, `${ids.patroniKeys(databaseId, nodeName)}leader`, member) };
    },

    /** The desired spec without secrets (it lands in the workflow history), or null when the database is gone. */
    async getDatabaseSpec({ databaseId }: { databaseId: string }): Promise<DatabaseSpec | null> {
      const db = await getDatabase(store, databaseId);
      return db ? redactSpec(db.spec) : null;
    },

    /** The plan, recorded as this activity's input so the task log shows it before anything runs. */
    async recordPlan(_input: { lines: string[] }): Promise<void> {},

    /** Instance records for the planned instances. Records of instances being removed go when they are removed. */
    async recordInstances({ databaseId, instances, state }: { databaseId: string; instances: RecordedInstance[]; state: string }): Promise<void> {
      for (const i of instances) await upsertInstance(store, { id: i.id, databaseId, nodeName: i.nodeName, hostId: i.hostId, state });
      // The database's etcd user, before any instance step: a joined host's agent cannot make etcd users.
      if (deps.etcd.authenticated && deps.etcd.canManageUsers) {
        const db = await getDatabaseSecrets(store, databaseId);
        if (db) await ensureDatabaseEtcdUser(deps.etcd, databaseId, db.secrets.etcdPassword);
      }
    },

    /** What runs now, for the update planner: joined nodes and every instance record. */
    async getDatabaseLayout({ databaseId }: { databaseId: string }): Promise<{ joined: string[]; instances: { instanceId: string; hostId: string; nodeName: string }[]; serviceInstances: { serviceId: string; hostId: string }[] }> {
      const instances = await listInstances(store, databaseId);
      const services = await listServiceInstances(store, databaseId);
      return {
        joined: await getJoinedNodes(store, databaseId),
        instances: instances.map((i) => ({ instanceId: i.id, hostId: i.hostId, nodeName: i.nodeName })),
        serviceInstances: services.map((s) => ({ serviceId: s.serviceId, hostId: s.hostId })),
      };
    },

    async markNodesJoined({ databaseId, nodeNames }: { databaseId: string; nodeNames: string[] }): Promise<void> {
      await setNodesJoined(store, databaseId, nodeNames, true);
    },

    /** After a node's removal (or the reset of a failed join): its records and its place in the joined list. */
    async forgetNodeRecords({ databaseId, nodeName, instanceIds }: { databaseId: string; nodeName: string; instanceIds: string[] }): Promise<void> {
      await setNodesJoined(store, databaseId, [nodeName], false);
      for (const id of instanceIds) await deleteInstance(store, id);
    },

    /**
     * One instance's stored state (backing_up while pgBackRest runs on it; available shows the monitor's view). With
     * `from`, only over one of those states, so a backup's end does not overwrite what the monitor saw meanwhile.
     */
    async setInstanceState({ instanceId, state, from }: { instanceId: string; state: string; from?: string[] }): Promise<void> {
      await setInstanceState(store, instanceId, state, from);
    },

    /** A replica that left its node (its host dropped from host_ids). */
    async forgetInstanceRecords({ instanceIds }: { instanceIds: string[] }): Promise<void> {
      for (const id of instanceIds) await deleteInstance(store, id);
    },

    /**
     * Database state, and the instances' with it (`available` instances show the monitor's view). Compare-and-set:
     * a task's final state is written only from a transitional state and only while this task holds the database's
     * lock (which a final state releases); a task whose lock a forced delete took over changes nothing.
     */
    async setDatabaseState({ databaseId, state, instanceState, error }: { databaseId: string; state: DatabaseState; instanceState?: string; error?: string }): Promise<void> {
      if (!(await setDatabaseStateAsTask(store, databaseId, callingTask(), transitionalStates, state))) return;
      if (instanceState) {
        const inProgress = instanceState === 'failed' ? ['creating', 'modifying', 'deleting'] : undefined;
        await setInstanceStates(store, databaseId, instanceState, error ?? null, inProgress);
        // service instances still being made or removed fail with the task (a running one keeps its state)
        if (instanceState === 'failed') await failServiceInstancesInProgress(store, databaseId, error ?? 'task failed');
      }
    },

    /**
     * Takes the database's lock for the calling task, or keeps it if it holds it already (the API took it for the
     * task's id). Another task holding it fails this task for good: the operation does not run beside it.
     */
    async acquireDatabaseLock({ databaseId, type }: { databaseId: string; type: string }): Promise<void> {
      const taskId = callingTask();
      const holder = await getDatabaseLock(store, databaseId);
      if (holder?.taskId === taskId) return;
      if (await lockDatabase(store, databaseId, { taskId, type, from: 'any' })) return;
      const now = await getDatabaseLock(store, databaseId);
      if (now?.taskId === taskId) return;
      if (!(await getDatabase(store, databaseId))) throw permanent(FailureType.notFound, `database ${databaseId} not found`);
      throw permanent(FailureType.refused, `database ${databaseId} is busy: task ${now?.taskId ?? 'unknown'} (${now?.type ?? 'unknown'}) holds its lock`);
    },

    /** Releases the database's lock if the calling task holds it (a task's last step, whatever its outcome). */
    async releaseDatabaseLock({ databaseId }: { databaseId: string }): Promise<{ released: boolean }> {
      return { released: await unlockDatabase(store, databaseId, callingTask()) };
    },

    /**
     * A forced delete's first step (and a failover's that took a dead primary's backup's lock over): cancels the task it
     * took the database's lock from and waits until that task has
     * ended (its running steps stopped: host steps wait for their cancellation), so nothing it does lands after the
     * delete removed it. One that does not end within `graceMs` is terminated.
     */
    async endSupersededTask({ taskId, graceMs, by = 'a forced delete' }: { taskId: string; graceMs: number; by?: string }): Promise<{ ended: string }> {
      if (!deps.temporal) throw permanent(FailureType.misconfigured, 'this worker has no Temporal client');
      const handle = deps.temporal.workflow.getHandle(taskId);
      const status = async () => {
        try {
          return (await handle.describe()).status.name;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
          throw err;
        }
      };
      // A holder not found may be a start the API is making right now (it took the lock, then starts): given a moment.
      let s = await status();
      for (let waited = 0; s === 'NOT_FOUND' && waited < 10_000; waited += 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        s = await status();
      }
      if (s !== 'RUNNING') return { ended: s };
      await handle.cancel().catch((err: unknown) => { if (!(err instanceof WorkflowNotFoundError)) throw err; });
      const started = Date.now();
      return pollUntil<{ ended: string }>(`task ${taskId} to end`, graceMs + 60_000, async () => {
        const s = await status();
        if (s !== 'RUNNING') return { ended: s };
        if (Date.now() - started <= graceMs) return { waiting: `task ${taskId} is being cancelled` };
        await handle.terminate(`superseded by ${by}`);
        return { ended: 'TERMINATED' };
      });
    },

    /** A restore's repository keys are kept only while it runs. */
    async forgetRestoreSecrets({ databaseId }: { databaseId: string }): Promise<void> {
      await setRestoreSecrets(store, databaseId, null);
    },

    /**
     * remove_host's last step: the host leaves the cluster. Every credential it was issued is revoked first — its
     * store role dropped (its sessions ended), its etcd user removed, its client certificate on the revocation list
     * the API checks — then its record and status go. A retry finds less to revoke and finishes.
     */
    async forgetHost({ hostId }: { hostId: string }): Promise<void> {
      await revokeHostCredentials({ store, etcd: deps.etcd }, hostId);
      await deleteHost(store, hostId);
    },

    /** A service instance on a host that left the cluster silent: its record only (nothing can be asked of the host). */
    async forgetServiceInstance({ databaseId, serviceId, hostId }: { databaseId: string; serviceId: string; hostId: string }): Promise<void> {
      await deleteServiceInstance(store, serviceIds.instance(databaseId, serviceId, hostId));
    },

    /** The database's record, and its Patroni's etcd user and role (its keys are gone: clearNodeDcs). */
    async removeDatabaseRecord({ databaseId }: { databaseId: string }): Promise<void> {
      if (deps.etcd.authenticated) await removeDatabaseEtcdUser(deps.etcd, databaseId);
      await deleteDatabase(store, databaseId);
    },

    /** Patroni's keys of these nodes in etcd: a new cluster must not meet a deleted one's leftovers. */
    async clearNodeDcs({ databaseId, nodeNames }: { databaseId: string; nodeNames: string[] }): Promise<number> {
      let deleted = 0;
      for (const n of nodeNames) deleted += await deletePrefix(deps.etcd, ids.patroniKeys(databaseId, n));
      return deleted;
    },
  };
}

export type StoreActivities = ReturnType<typeof storeActivities>;
