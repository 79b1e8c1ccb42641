// How a plan step runs: as an activity on its host's queue, with the step's description as the activity summary
// (it becomes the task log line). Timeouts and retries per class of step.
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ControlPlaneActivities, HostActivities } from '../activities/index.js';
import { describeStep, type Plan, type Step } from './model/planner.js';
import { taskQueues } from './model/search-attributes.js';

const transientRetry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds', maximumAttempts: 8 };

export const controlPlane = proxyActivities<ControlPlaneActivities>({
  taskQueue: taskQueues.controlPlane,
  startToCloseTimeout: '30 seconds',
  retry: transientRetry,
});

function host(hostId: string, summary: string, long: boolean) {
  const options: ActivityOptions = {
    taskQueue: taskQueues.host(hostId),
    // A worker killed mid-step is noticed at the timeout: short for quick steps, heartbeats for long ones.
    startToCloseTimeout: long ? '6 minutes' : '1 minute',
    heartbeatTimeout: long ? '30 seconds' : undefined,
    // A cancelled task waits until its running steps have stopped, so cleanup never races a step still acting.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: transientRetry,
    summary,
  };
  return proxyActivities<HostActivities>(options);
}

export async function runStep(databaseId: string, step: Step): Promise<void> {
  const summary = describeStep(step);
  switch (step.kind) {
    case 'network':
      await host(step.hostId, summary, false).ensureDatabaseNetwork({ databaseId });
      return;
    case 'instance':
      await host(step.hostId, summary, false).ensureInstance({ databaseId, instanceId: step.instanceId });
      return;
    case 'waitInstance':
      await host(step.hostId, summary, true).waitForInstance({ databaseId, instanceId: step.instanceId });
      return;
    case 'nodeDatabase':
      await host(step.hostId, summary, true).ensureNodeDatabase({ databaseId, nodeName: step.nodeName });
      return;
    case 'subscription':
      await host(step.hostId, summary, true).ensureSubscription({ databaseId, subscriber: step.subscriber, provider: step.provider });
      return;
    case 'waitReplication':
      await host(step.hostId, summary, true).waitForReplication({ databaseId, nodeName: step.nodeName, subscriptions: step.subscriptions });
      return;
    case 'removeInstance':
      await host(step.hostId, summary, false).removeInstance({ databaseId, instanceId: step.instanceId });
      return;
    case 'removeNetwork':
      await host(step.hostId, summary, false).removeDatabaseNetwork({ databaseId });
      return;
  }
}

export async function executePlan(databaseId: string, plan: Plan): Promise<void> {
  for (const wave of plan.waves) {
    // Every step of a phase settles before a failure propagates: no step is still acting when cleanup runs.
    const results = await Promise.allSettled(wave.map((step) => runStep(databaseId, step)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
