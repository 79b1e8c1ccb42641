// restart_instance, stop_instance and start_instance: one instance, on its own host's queue.
import { onHost } from './proxies.js';
import { runOperationTask, waitUntil, type Schedule } from './scheduled.js';

export interface InstanceOperationInput { databaseId: string; instanceId: string; hostId: string; schedule?: Schedule }

export async function restartInstance({ databaseId, instanceId, hostId, schedule }: InstanceOperationInput): Promise<void> {
  await runOperationTask(async () => {
    await waitUntil(schedule);
    await onHost(hostId, `restarting Postgres in instance ${instanceId} through Patroni`, 'long').restartInstance({ databaseId, instanceId });
  });
}

export async function stopInstance({ databaseId, instanceId, hostId }: InstanceOperationInput): Promise<void> {
  await runOperationTask(() => onHost(hostId, `stopping instance ${instanceId} on ${hostId} (it keeps its port and data)`, 'long').stopInstance({ databaseId, instanceId }));
}

export async function startInstance({ databaseId, instanceId, hostId }: InstanceOperationInput): Promise<void> {
  await runOperationTask(() => onHost(hostId, `starting instance ${instanceId} on ${hostId}`, 'long').startInstance({ databaseId, instanceId }));
}
