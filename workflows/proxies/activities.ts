// Activity proxies: the control-plane queue, and each host's queue with a class of timeouts per kind of step; and
// the stored spec as every layer above reads it.
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import type { ControlPlaneActivities, HostActivities } from '../../activities/index.js';
import { taskQueues } from '../model/search-attributes.js';

const transientRetry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds', maximumAttempts: 8 };

/**
 * Control-plane steps touch the store, etcd and Temporal only: what fails them is an outage of one of those, so they
 * retry for hours (every minute at most) rather than fail every running task — and its final `failed` write — after
 * a minute. Failures the activity marks non-retryable (activities/errors.ts) still end the step at once.
 */
export const controlPlaneRetry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
export const controlPlaneRetryFor = '6 hours';

export const controlPlane = proxyActivities<ControlPlaneActivities>({
  taskQueue: taskQueues.controlPlane,
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: controlPlaneRetryFor,
  retry: controlPlaneRetry,
});

/** Control-plane steps that wait on something (a superseded task ending), heartbeating. */
export const controlPlaneWaits = proxyActivities<ControlPlaneActivities>({
  taskQueue: taskQueues.controlPlane,
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: controlPlaneRetryFor,
  retry: controlPlaneRetry,
});

/** short: one quick action; long: polls Postgres or Patroni (heartbeats); copy: a node's initial data copy. */
export type StepClass = 'short' | 'long' | 'copy';

const timeouts: Record<StepClass, Pick<ActivityOptions, 'startToCloseTimeout' | 'heartbeatTimeout'>> = {
  // A worker killed mid-step is noticed at the timeout: short for quick steps, heartbeats for the others.
  short: { startToCloseTimeout: '1 minute' },
  long: { startToCloseTimeout: '6 minutes', heartbeatTimeout: '30 seconds' },
  copy: { startToCloseTimeout: '4 hours', heartbeatTimeout: '30 seconds' },
};

/** How long a host step waits for its host's agent to pick it up before the task fails naming the host. */
export const hostPickupTimeout = '2 minutes';

export function onHost(hostId: string, summary: string, kind: StepClass = 'short'): HostActivities {
  const proxy = proxyActivities<HostActivities>({
    taskQueue: taskQueues.host(hostId),
    ...timeouts[kind],
    scheduleToStartTimeout: hostPickupTimeout,
    // A cancelled task waits until its running steps have stopped, so cleanup never races a step still acting.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: transientRetry,
    summary,
  });
  // A step no agent picks up (its host's worker is down) fails the task with the host's name, not a bare timeout.
  return new Proxy(proxy, {
    get: (target, name: string) => async (...args: unknown[]) => {
      try {
        return await (target[name as keyof HostActivities] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START') {
          throw ApplicationFailure.nonRetryable(`host ${hostId} is not running its agent: "${summary}" waited ${hostPickupTimeout} for it`, 'HostUnavailable');
        }
        throw err;
      }
    },
  });
}

/** The database's stored spec (secrets redacted); a database that is gone fails the task for good. */
export async function loadSpec(databaseId: string): Promise<DatabaseSpec> {
  const spec = await controlPlane.getDatabaseSpec({ databaseId });
  if (!spec) throw ApplicationFailure.nonRetryable(`database ${databaseId} not found`, 'NotFound');
  return spec;
}
