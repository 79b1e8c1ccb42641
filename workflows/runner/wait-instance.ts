// The wait for an instance to run Postgres, as a task's step (a create's or an update's plan, a rolling update).
import { isCancellation, patched } from '@temporalio/workflow';
import { onHost } from '../proxies/activities.js';

/** Rounds of "the node has no leader: start its other members if they exited" before the wait goes on plainly. */
const leaderlessRounds = 5;

/**
 * Until the instance runs Postgres. Should its node have no leader meanwhile (its primary, on another host, died while
 * this one waited to clone from it), each other member whose container exited is started again by its own host: the
 * monitor leaves a database in a task alone, and nothing else would. A member that cannot be started (its host's
 * agent down) does not fail the wait. Behind a patch marker: tasks begun before it replay as they ran.
 */
export async function waitInstance(databaseId: string, i: { hostId: string; instanceId: string; nodeName: string }, summary: string): Promise<void> {
  if (!patched('wait-instance-starts-leaderless-node')) {
    await onHost(i.hostId, summary, 'long').waitForInstance({ databaseId, instanceId: i.instanceId });
    return;
  }
  for (let round = 0; round < leaderlessRounds; round++) {
    const r = await onHost(i.hostId, summary, 'long').waitForInstance({ databaseId, instanceId: i.instanceId, untilLeaderless: true });
    if (!('leaderless' in r)) return;
    for (const o of r.others) {
      await onHost(o.hostId, `node ${i.nodeName} has no primary: starting ${o.instanceId} again if its container exited`)
        .startIfExited({ databaseId, instanceId: o.instanceId })
        .catch((err: unknown) => { if (isCancellation(err)) throw err; });
    }
  }
  await onHost(i.hostId, summary, 'long').waitForInstance({ databaseId, instanceId: i.instanceId });
}
