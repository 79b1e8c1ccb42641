// A node's primary role handed to one of its replicas: planned (switchover) or unplanned (failover). Before a
// planned switchover the node's logical slots are made sure to be on the replicas (else subscribers to this node
// would lose their place); afterwards it waits until replication to and from the node works again.
import { patched } from '@temporalio/workflow';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { ids } from '../model/ids.js';
import { planInstances } from '../model/instances.js';
import { nodeHost } from '../model/planner.js';
import { controlPlane, controlPlaneWaits, loadSpec, onHost } from '../proxies/activities.js';

export interface HandOverInput {
  databaseId: string;
  nodeName: string;
  /** Where the steps run: a host with a running member of the node, chosen by the API. */
  hostId: string;
  candidate?: string;
  skipValidation?: boolean;
  /**
   * A failover the host's monitor started (no API call): the node's primary `instanceId`, on `hostId`, died
   * (Docker `event`). Its leader key is released so that Patroni's replicas elect a new primary at once.
   */
  unplanned?: { instanceId: string; event: string; at: string };
  /**
   * An unplanned failover that took the database's lock over from a backup of the dead primary (it cannot finish):
   * that backup task, cancelled and awaited beside the failover.
   */
  supersedes?: string;
}

/** How long a backup superseded by a failover may take to stop once cancelled before it is terminated. */
const supersededBackupGraceMs = 60_000;

export async function handOverNode(input: HandOverInput, mode: 'switchover' | 'failover'): Promise<void> {
  const { databaseId, nodeName, hostId, candidate } = input;
  const on = (summary: string, kind: 'short' | 'long' = 'long') => onHost(hostId, summary, kind);
  if (mode === 'failover' && input.unplanned) {
    await unplannedFailover(input, input.unplanned);
    return;
  }
  if (mode === 'switchover') {
    await on(`making sure node ${nodeName}'s replicas hold its logical slots`).protectLogicalSlots({ databaseId, nodeName, waitForReplicas: true });
  }
  const failover = mode === 'failover' ? { skipValidation: input.skipValidation ?? false } : undefined;
  const { from, to } = await on(`choosing the instance of node ${nodeName} to promote${candidate ? ` (asked: ${candidate})` : ''}`, 'short')
    .chooseCandidate({ databaseId, nodeName, candidate, failover });
  await on(`${mode} of node ${nodeName}: ${from ?? 'no primary'} → ${to}; waiting for ${to} to accept writes`).promoteCandidate({ databaseId, nodeName, from, to, mode });
  // A replica of a newer minor (a rolling upgrade) may gate output plugins where the old primary did not: its peers
  // could not read their slots on it until the plugin is allowed there, on the new primary.
  if (patched('allow-output-plugin-after-promotion')) {
    await on(`allowing the replication output plugin on node ${nodeName}'s new primary`, 'short').allowOutputPlugin({ databaseId, nodeName });
  }
  await waitForNodeReplication(databaseId, await loadSpec(databaseId), nodeName);
}

/**
 * The old primary is confirmed gone (container stopped on its host, Patroni silent), then its leader key is deleted
 * only if it still names it: Patroni's replicas race for the key at once, and its rules pick the winner (the
 * healthiest replica within maximum_lag_on_failover). No promotion is forced, so nothing can make two primaries.
 */
async function unplannedFailover(input: HandOverInput, dead: NonNullable<HandOverInput['unplanned']>): Promise<void> {
  const { databaseId, nodeName, hostId } = input;
  // Behind a patch marker: failovers that superseded nothing replay as before. Not awaited first: the promotion
  // does not wait for the doomed backup to stop.
  const superseded = input.supersedes && patched('failover-supersedes-backup')
    ? controlPlaneWaits.endSupersededTask({ taskId: input.supersedes, graceMs: supersededBackupGraceMs, by: 'a failover of its node' })
    : null;
  superseded?.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
  await onHost(hostId, `node ${nodeName}'s primary ${dead.instanceId} died (Docker event "${dead.event}" at ${dead.at}): making sure it cannot serve`, 'short')
    .confirmPrimaryDead({ databaseId, instanceId: dead.instanceId });
  await controlPlane.releaseLeaderKey({ databaseId, nodeName, member: dead.instanceId });
  await onHost(hostId, `waiting for Patroni to promote a replica of node ${nodeName}`).waitForNewPrimary({ databaseId, nodeName, not: dead.instanceId });
  // the peers' apply workers gave up on the dead primary: restarted at once, not after the usual grace
  await waitForNodeReplication(databaseId, await loadSpec(databaseId), nodeName, 0);
  await superseded;
}

/** Before an instance leaves its node (update dropping its host): if it leads, a switchover moves the role away. */
export async function handOverFrom(databaseId: string, nodeName: string, instanceId: string, hostId: string): Promise<void> {
  const leader = await onHost(hostId, `checking whether ${instanceId} is node ${nodeName}'s primary`).nodeLeader({ databaseId, nodeName });
  if (leader === instanceId) await handOverNode({ databaseId, nodeName, hostId }, 'switchover');
}

/** The node's subscriptions and its peers' subscriptions to it, replicating again. */
async function waitForNodeReplication(databaseId: string, spec: DatabaseSpec, nodeName: string, restartDownAfterMs?: number): Promise<void> {
  const names = spec.nodes.map((n) => n.name);
  if (names.length < 2) return;
  const instances = planInstances(databaseId, spec);
  await Promise.all(names.map((n) => {
    const subscriptions = n === nodeName ? names.filter((p) => p !== n).map((p) => ids.subscription(n, p)) : [ids.subscription(n, nodeName)];
    return onHost(nodeHost(instances, n), `waiting for node ${n} to replicate (${subscriptions.join(', ')})`, 'long')
      .waitForReplication({ databaseId, nodeName: n, subscriptions, ...(restartDownAfterMs === undefined ? {} : { restartDownAfterMs }) });
  }));
}
