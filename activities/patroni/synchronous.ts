// Synchronous replication inside a node (Patroni synchronous_mode, activities/patroni/config.ts): a primary whose
// commits wait for a standby that is gone, and its release. Patroni drops a vanished synchronous standby within a
// loop; Patroni 3.0.2 (the Postgres 15 image) misses one that vanished during the 2 s it waits after naming it (a
// replica removed right after it caught up), and keeps naming it: every commit on the node waits, for good.
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/activity';
import type { InstanceAddress } from '../addresses.js';
import { withClient } from '../postgres/connect.js';
import type { DatabaseSecrets } from '../../store/databases.js';
import { heldSince, isPromotableStandby, waitsForGoneStandby } from '../../workflows/model/ha.js';
import type { DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { pollUntil } from '../heartbeats.js';
import { getDynamicConfig, patchDynamicConfig } from './client.js';
import { patroniLoopWaitMs } from './config.js';
import { nodeCluster } from './node-cluster.js';

const readSsn = "SELECT current_setting('synchronous_standby_names') AS ssn, "
  + "coalesce((SELECT array_agg(application_name::text) FROM pg_stat_replication WHERE state = 'streaming'), '{}') AS streaming";

/** The primary's synchronous_standby_names when its commits wait for a standby that no longer streams, else null. */
export async function goneSynchronousStandby(primary: InstanceAddress, secrets: DatabaseSecrets): Promise<string | null> {
  const row = await withClient(primary, secrets, 'postgres', async (c) => (await c.query<{ ssn: string; streaming: string[] }>(readSsn)).rows[0]!);
  return waitsForGoneStandby(row.ssn, row.streaming) ? row.ssn : null;
}

/**
 * Synchronous mode off, until Patroni has emptied synchronous_standby_names (the waiting commits return), then on
 * again: Patroni names a streaming replica anew at its next loop. On again whatever happened meanwhile.
 */
export async function releaseGoneSynchronousStandby(primary: InstanceAddress, secrets: DatabaseSecrets): Promise<void> {
  try {
    await patchDynamicConfig(primary, secrets, { synchronous_mode: false });
    for (let i = 0; i < 30; i++) {
      const ssn = await withClient(primary, secrets, 'postgres', async (c) => (await c.query<{ s: string }>("SELECT current_setting('synchronous_standby_names') AS s")).rows[0]!.s).catch(() => null);
      if (ssn === '') return;
      await sleep(500);
    }
  } finally {
    await patchDynamicConfig(primary, secrets, { synchronous_mode: true });
  }
}

/** A primary's loop has read the standby's running member key and kept it named: one loop and a second. */
const steadyStandbyMs = patroniLoopWaitMs + 1000;

/**
 * Until node `nodeName` has had a promotable synchronous standby for a whole Patroni loop and a second, at most
 * `timeoutMs` (false then; a node not in synchronous mode: true at once). A replica just made streams first and
 * Patroni names it at its next loop; a replica just restarted (Patroni copying logical slots) stays named until the
 * primary's next loop drops it for a while. Until Patroni names one again it would promote none of the node's
 * replicas, so a task that made or restarted one waits here before it says the node is ready.
 */
export async function waitForSynchronousStandby(deps: HostDeps, db: DatabaseContext, nodeName: string, timeoutMs: number): Promise<boolean> {
  let since: number | null = null;
  let held: string | null = null; // the standby `since` is about: another one starts the count again
  return pollUntil(`a synchronous standby of node ${nodeName}`, timeoutMs, async () => {
    const { cluster, address } = await nodeCluster(deps, db, nodeName);
    const via = cluster.leader ? address.get(cluster.leader) : undefined;
    const config = via ? await getDynamicConfig(via) : null;
    if (config && config.synchronous_mode !== true && config.synchronous_mode !== 'on') return true;
    const standby = cluster.members.find(isPromotableStandby)?.name ?? null;
    const now = heldSince(standby === held ? since : null, standby !== null, Date.now());
    [since, held] = [now.since, standby];
    if (now.heldMs >= steadyStandbyMs) return true;
    return { waiting: since === null ? `no synchronous standby yet (leader: ${cluster.leader ?? 'none'})` : 'a synchronous standby, not yet for a whole Patroni loop' };
  }).catch((err: unknown) => {
    if (err instanceof CancelledFailure) throw err;
    return false;
  });
}

/**
 * Synchronous mode on for the node, when it is off (a release cut short before it turned it on again, a node made
 * before in-node replication was synchronous): returns whether it had to.
 */
export async function keepSynchronousMode(primary: InstanceAddress, secrets: DatabaseSecrets): Promise<boolean> {
  const config = await getDynamicConfig(primary);
  if (!config || config.synchronous_mode === true || config.synchronous_mode === 'on') return false;
  await patchDynamicConfig(primary, secrets, { synchronous_mode: true });
  return true;
}
