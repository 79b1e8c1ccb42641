// restart_instance, stop_instance and start_instance: one instance, on its own host's queue.
import { onHost } from '../proxies/activities.js';
import { runOperationTask, type Schedule } from '../task/task-bracket.js';

export interface InstanceOperationInput { databaseId: string; instanceId: string; hostId: string; schedule?: Schedule }

export async function restartInstance({ databaseId, instanceId, hostId, schedule }: InstanceOperationInput): Promise<void> {
  await runOperationTask(
    () => onHost(hostId, `restarting Postgres in instance ${instanceId} through Patroni`, 'long').restartPostgres({ databaseId, instanceId }),
    { databaseId, type: 'restart_instance' }, schedule);
}

export async function stopInstance({ databaseId, instanceId, hostId }: InstanceOperationInput): Promise<void> {
  await runOperationTask(() => onHost(hostId, `stopping instance ${instanceId} on ${hostId} (it keeps its port and data)`, 'long').stopInstanceContainer({ databaseId, instanceId }), { databaseId, type: 'stop_instance' });
}

export async function startInstance({ databaseId, instanceId, hostId }: InstanceOperationInput): Promise<void> {
  await runOperationTask(() => onHost(hostId, `starting instance ${instanceId} on ${hostId}`, 'long').startInstanceContainer({ databaseId, instanceId }), { databaseId, type: 'start_instance' });
}
