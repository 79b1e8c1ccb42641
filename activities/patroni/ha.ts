// High availability inside one node: switchover, failover, restart, stop and start of an instance, and the
// permanent logical slots that let subscribers follow a primary change. Each activity checks before it acts, so a
// retry after a lost answer finds the work done and only waits for its outcome.
import { Context } from '@temporalio/activity';
import { restartIfExited } from '../docker/instance-start.js';
import { waitForSynchronousStandby } from './synchronous.js';
import { nodeCluster } from './node-cluster.js';
import { isSyncStandby, nodeHealthy, pickCandidate, slotsPatch, wantedSlots, type LogicalSlot, type PermanentSlots } from '../../workflows/model/ha.js';
import { planInstances } from '../../workflows/model/instances.js';
import { recordedSlots } from '../replication/slot-owners.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { inspectContainerOrNull } from '../docker/client.js';
import { startInstance } from '../docker/instance-secrets.js';
import { instanceAddress, type InstanceAddress } from '../addresses.js';
import { loadDatabase, type DatabaseContext, type InstanceKey, type NodeKey } from '../database-context.js';
import { pollUntil, whileBeating } from '../heartbeats.js';
import { withClient } from '../postgres/connect.js';
import { readInstanceStatus, setInstanceStopped, storeNow } from '../../store/instances.js';
import { getDynamicConfig, getPatroniStatus, patchDynamicConfig, postPatroni } from './client.js';

/** How long a switchover waits for the node's synchronous standby to be named again. */
const synchronousStandbyAfterSwitchoverMs = 60_000;

/** Until `instanceId` leads its node and its Postgres accepts writes. */
async function waitWritable(deps: HostDeps, db: DatabaseContext, nodeName: string, instanceId: string): Promise<void> {
  await pollUntil(`${instanceId} to serve writes`, 2 * 60_000, async () => {
    const ip = await instanceAddress(deps, db.databaseId, instanceId);
    const status = ip ? await getPatroniStatus(ip) : null;
    if (!ip || status?.role !== 'primary' || status.state !== 'running') return { waiting: `${instanceId} is ${status ? `${status.role}, ${status.state}` : 'not answering'}` };
    const writable = await withClient(ip, db.secrets, db.spec.database_name, async (c) =>
      (await c.query<{ w: boolean }>("SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off' AS w")).rows[0]!.w).catch(() => false);
    return writable ? true : { waiting: `${instanceId} does not accept writes yet (node ${nodeName})` };
  });
}

/**
 * Until Patroni runs Postgres in the instance (any role), and then until this host's monitor has reported it so:
 * the API shows an instance's state from those reports, and a task that ends while the API still shows
 * `restarting` would refuse the user's next operation on the instance.
 */
async function waitRunning(deps: HostDeps, databaseId: string, instanceId: string): Promise<void> {
  await pollUntil(`${instanceId} to run`, 5 * 60_000, async () => {
    const ip = await instanceAddress(deps, databaseId, instanceId);
    const status = ip ? await getPatroniStatus(ip) : null;
    return status?.state === 'running' ? true : { waiting: `Patroni state ${status?.state ?? 'not answering'}` };
  });
  const runningSince = await storeNow(deps.store);
  await pollUntil(`the monitor to report ${instanceId} running`, 60_000, async () => {
    const seen = await readInstanceStatus(deps.store, instanceId);
    const fresh = seen && seen.updatedAt > runningSince && seen.status.patroniState === 'running';
    return fresh ? true : { waiting: `last report: ${seen?.status.patroniState ?? 'none'}` };
  });
}

/** How long after the dead primary's leader key was released, with no member leading, it is started again. */
const noPromotionRestartAfterMs = 10_000;

/** How long a switchover waits for its candidate to become a synchronous standby (a replica just rejoined catches up first). */
const syncStandbyWaitMs = 90_000;

/**
 * With synchronous_mode on (activities/patroni/config.ts), Patroni hands over only to a synchronous standby: until
 * `to` is one. A replica that rejoined a moment ago (the old primary of the last switchover) becomes one once it has
 * caught up; one that stays asynchronous (a third member, when another is the synchronous one) is refused by name.
 */
async function waitSynchronous(deps: HostDeps, db: DatabaseContext, nodeName: string, to: string, via: InstanceAddress, mode: 'switchover' | 'failover'): Promise<void> {
  const config = await getDynamicConfig(via);
  if (config?.synchronous_mode !== true && config?.synchronous_mode !== 'on') return;
  let sync: string[] = [];
  await pollUntil(`${to} to become a synchronous standby of node ${nodeName}`, syncStandbyWaitMs, async () => {
    const { cluster } = await nodeCluster(deps, db, nodeName);
    sync = cluster.members.filter(isSyncStandby).map((m) => m.name);
    return sync.includes(to) ? true : { waiting: `synchronous standby: ${sync.join(', ') || 'none yet'}` };
  }).catch((err: unknown) => {
    if (sync.length === 0) throw err;
    throw refuse(`cannot ${mode === 'switchover' ? 'switch' : 'fail'} over node ${nodeName} to ${to}: it is not a synchronous standby (${sync.join(', ')} is): only a synchronous standby holds every acknowledged commit`);
  });
}

/** The node's or instance's state does not allow the operation: the user acts first, a retry would not help. */
const refuse = (message: string) => permanent(FailureType.refused, message);

export function haActivities(deps: HostDeps) {
  return {
    /**
     * Declares the slots subscribers read on this node's primary as Patroni permanent slots (and drops those of
     * nodes no longer in the spec from the declaration), so Patroni copies them to the replicas and advances them
     * there. With `waitForReplicas`, waits until every running replica holds them: only then may a replica take over.
     */
    async protectLogicalSlots({ databaseId, nodeName, waitForReplicas }: NodeKey & { waitForReplicas?: boolean }): Promise<{ slots: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const { cluster, address } = await nodeCluster(deps, db, nodeName);
      const leaderIp = cluster.leader ? address.get(cluster.leader) : undefined;
      if (!leaderIp) throw new Error(`node ${nodeName} has no primary`);
      const wanted = await syncPermanentSlots(deps, leaderIp, db, nodeName);
      const names = Object.keys(wanted);
      if (waitForReplicas && names.length > 0) {
        await pollUntil(`the replicas of ${nodeName} to hold its logical slots`, 3 * 60_000, async () => {
          // Running replicas only, read afresh: a member whose container is gone is not waited for.
          const { cluster: now, address: running } = await nodeCluster(deps, db, nodeName);
          const missing: string[] = [];
          // (one restarting to load the copied slots counts as missing until it streams again)
          for (const r of now.members.filter((m) => m.name !== now.leader && running.has(m.name))) {
            if (!['streaming', 'running'].includes(r.state)) { missing.push(r.name); continue; }
            const have = await withClient(running.get(r.name)!, db.secrets, 'postgres', async (c) =>
              (await c.query<{ slot_name: string }>("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical'")).rows.map((x) => x.slot_name)).catch((): string[] => []);
            if (!names.every((n) => have.includes(n))) missing.push(r.name);
          }
          return missing.length === 0 ? true : { waiting: `not copied yet to ${missing.join(', ')}` };
        });
        // a replica restarted to load the copied slots stopped being the synchronous standby: until Patroni names it
        // again, it would promote none (bounded: the node is not less ready than before this step)
        await waitForSynchronousStandby(deps, db, nodeName, 30_000);
      }
      return { slots: names };
    },

    /**
     * After a switchover: until Patroni names a synchronous standby of the node again and keeps it for a loop, at most
     * a minute. The old primary rejoins as a replica and is named at the primary's next loop; until then no replica
     * may take over if the new primary is lost (Patroni promotes only the synchronous standby), so the task waits
     * before it says the node is ready. Not named in time: the switchover stands, and the log says so.
     */
    async awaitSynchronousStandby({ databaseId, nodeName }: NodeKey): Promise<{ lines: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const held = await waitForSynchronousStandby(deps, db, nodeName, synchronousStandbyAfterSwitchoverMs);
      return { lines: [held
        ? `node ${nodeName} has a synchronous standby again: a replica may take over if its primary is lost`
        : `node ${nodeName} has no synchronous standby after the switchover (waited up to ${synchronousStandbyAfterSwitchoverMs / 1000} s): until it has one, no replica may take over if its primary is lost`] };
    },

    /** The instance that leads the node now, if any. */
    async nodeLeader({ databaseId, nodeName }: NodeKey): Promise<string | null> {
      const db = await loadDatabase(deps.store, databaseId);
      return (await nodeCluster(deps, db, nodeName)).cluster.leader;
    },

    /**
     * Which member takes over: the candidate asked for, else the running replica with the least lag. A failover is
     * refused on a healthy node unless skipValidation; a switchover needs a running primary. Chosen once (the
     * answer is in the task's history), so a retried hand-over never picks a second replica.
     */
    async chooseCandidate({ databaseId, nodeName, candidate, failover }: NodeKey & { candidate?: string; failover?: { skipValidation: boolean } }): Promise<{ from: string | null; to: string }> {
      const db = await loadDatabase(deps.store, databaseId);
      const { cluster, address } = await nodeCluster(deps, db, nodeName);
      const operation = failover ? 'fail over' : 'switch over';
      // A killed leader stays `running` in the DCS until its key expires: only a running container counts.
      if (failover && nodeHealthy(cluster.members.filter((m) => address.has(m.name))) && !failover.skipValidation) throw refuse('cluster is healthy; refuse failover unless skip_validation is true');
      if (!failover && (!cluster.leader || !address.has(cluster.leader) || !nodeHealthy(cluster.members))) {
        throw refuse(`cannot switch over node ${nodeName}: it has no running primary (use failover)`);
      }
      // Only members that run here and stay in the node may take over: a replica just removed lingers in
      // Patroni's member list until its key expires.
      const staying = new Set(db.instances.filter((i) => i.nodeName === nodeName).map((i) => i.instanceId));
      const pick = pickCandidate(cluster.members.filter((m) => address.has(m.name) && (staying.has(m.name) || m.name === cluster.leader)), candidate);
      if ('refused' in pick) throw refuse(`cannot ${operation} node ${nodeName}: ${pick.refused}`);
      return { from: cluster.leader, to: pick.name };
    },

    /** Asks Patroni to hand the node over to `to` unless it already leads; done when `to` takes writes. */
    async promoteCandidate({ databaseId, nodeName, from, to, mode }: NodeKey & { from: string | null; to: string; mode: 'switchover' | 'failover' }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const { cluster, address } = await nodeCluster(deps, db, nodeName);
      if (cluster.leader !== to) {
        const via = mode === 'switchover' && cluster.leader ? address.get(cluster.leader) : address.get(to);
        if (!via) throw new Error(`cannot reach ${mode === 'switchover' ? `the primary ${cluster.leader}` : to} of node ${nodeName}`);
        // a failover with a primary still running (skip_validation) hands over like a switchover; a dead one leaves
        // nothing to catch up from: Patroni decides then
        if (cluster.leader && address.has(cluster.leader)) await waitSynchronous(deps, db, nodeName, to, via, mode);
        await whileBeating(postPatroni(via, db.secrets, mode, mode === 'switchover' ? { leader: from, candidate: to } : { candidate: to }));
      }
      await waitWritable(deps, db, nodeName, to);
    },

    /**
     * Fast failover's guard: the old primary cannot serve. Its container must exist on this host and not run (a
     * paused container counts as running: frozen, it may wake up and serve), and its Patroni must not answer.
     * Anything else refuses the failover for good: Patroni's own ttl decides then.
     */
    async confirmPrimaryDead({ databaseId, instanceId }: InstanceKey): Promise<{ lines: string[] }> {
      const info = await inspectContainerOrNull(deps.docker, instanceId);
      if (!info) throw refuse(`instance ${instanceId} has no container on ${deps.hostId}: not failing over from here`);
      if (info.State.Running || info.State.Paused) throw refuse(`the container of ${instanceId} is ${info.State.Paused ? 'paused' : 'running'}: it could still serve, not failing over`);
      const ip = await instanceAddress(deps, databaseId, instanceId);
      if (ip && await getPatroniStatus(ip)) throw refuse(`Patroni of ${instanceId} still answers: not failing over`);
      return { lines: [`container ${instanceId} is ${info.State.Status} (exit code ${info.State.ExitCode}${info.State.OOMKilled ? ', killed for lack of memory' : ''}, since ${info.State.FinishedAt}); its Patroni does not answer`] };
    },

    /**
     * Until a member other than `not` leads the node and takes writes; returns it. With no leader 10 s after the key
     * was released, no replica may take over (none was the synchronous standby: the dead primary alone holds every
     * acknowledged commit), so the dead primary's container is started again and may lead again: Patroni's key
     * decides, and a replica that wins after all makes it rejoin as a replica.
     */
    async waitForNewPrimary({ databaseId, nodeName, not }: NodeKey & { not: string }): Promise<{ leader: string; lines: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const since = Date.now();
      const startedAt = new Map<string, number>();
      let restarted: string | null = null;
      const leader = await pollUntil(`a new primary of node ${nodeName}`, 2 * 60_000, async () => {
        const now = await nodeCluster(deps, db, nodeName).catch(() => null);
        const leads = now?.cluster.leader;
        // the dead one leading again (started here, or by Docker or the monitor) counts once Patroni's cached view
        // of the released key (a loop old) cannot be what shows it
        if (leads && (leads !== not || Date.now() - since > noPromotionRestartAfterMs)) return leads;
        if (!leads && Date.now() - since > noPromotionRestartAfterMs) {
          restarted = await restartIfExited(deps, databaseId, not, startedAt, db).catch(() => null) ?? restarted;
        }
        return { waiting: `leader: ${leads ?? 'none'}${restarted ? `; ${restarted}` : ''}` };
      });
      await waitWritable(deps, db, nodeName, leader);
      return {
        leader,
        lines: [leader === not
          ? `no replica of node ${nodeName} could take over (none was a synchronous standby): ${not} was started again and leads, and takes writes`
          : `${leader} is node ${nodeName}'s primary and takes writes`],
      };
    },

    /** Patroni restarts Postgres in place (a primary stays primary). */
    /**
     * Restarts Postgres through Patroni, once: a retry (the answer of an earlier attempt lost) whose Postgres started
     * after this step was first scheduled, or does not answer yet (restarting), only waits for it to run.
     */
    async restartPostgres({ databaseId, instanceId }: InstanceKey): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const ip = await instanceAddress(deps, databaseId, instanceId);
      if (!ip) throw refuse(`instance ${instanceId} is not running`);
      const info = Context.current().info;
      if (info.attempt > 1) {
        const startedMs = await withClient(ip, db.secrets, 'postgres', async (c) =>
          Number((await c.query<{ ms: string }>('SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000)::bigint AS ms')).rows[0]?.ms ?? 0)).catch(() => null);
        if (startedMs === null || startedMs >= info.scheduledTimestampMs) {
          await waitRunning(deps, databaseId, instanceId);
          return;
        }
      }
      await whileBeating(postPatroni(ip, db.secrets, 'restart', {}));
      await waitRunning(deps, databaseId, instanceId);
    },

    /** Recorded as stopped first, so the monitor never brings it back; Patroni stops Postgres cleanly. */
    async stopInstanceContainer({ instanceId }: InstanceKey): Promise<void> {
      await setInstanceStopped(deps.store, instanceId, true);
      const info = await inspectContainerOrNull(deps.docker, instanceId);
      if (info?.State.Running) await whileBeating(deps.docker.getContainer(instanceId).stop({ t: 60 }));
    },

    async startInstanceContainer({ databaseId, instanceId }: InstanceKey): Promise<void> {
      const info = await inspectContainerOrNull(deps.docker, instanceId);
      if (!info) throw refuse(`instance ${instanceId} has no container on ${deps.hostId}: run an update to recreate it`);
      await startInstance(deps, databaseId, instanceId);
      await setInstanceStopped(deps.store, instanceId, false); // running again: the monitor may revive it from now on
      await waitRunning(deps, databaseId, instanceId);
    },
  };
}

/**
 * The logical slots of the node's subscribers, on its primary, declared permanent in the node's DCS. A slot is its
 * subscriber's by the name the subscription records (asked of each subscriber's primary), never by the ending of
 * its name. When every logical slot of the primary is declared and no node leaves, nothing is asked (the monitor
 * calls this at every round). A subscriber that cannot be asked keeps what is declared. `without`: nodes leaving;
 * `dropping`: slots about to be dropped (undeclared first, else Patroni would make them again).
 */
export async function syncPermanentSlots(
  deps: Pick<HostDeps, 'docker' | 'store' | 'hostId'>, leaderIp: InstanceAddress, db: Pick<DatabaseContext, 'databaseId' | 'spec' | 'secrets'> & { instances?: DatabaseContext['instances'] },
  nodeName: string, o: { without?: string[]; dropping?: string[] } = {},
): Promise<PermanentSlots> {
  const slots = await withClient(leaderIp, db.secrets, 'postgres', async (c) =>
    (await c.query<LogicalSlot>(
      "SELECT slot_name AS name, database, plugin FROM pg_replication_slots WHERE slot_type = 'logical' AND plugin IN ('pglogical_output', 'spock_output')",
    )).rows);
  const current = await getDynamicConfig(leaderIp);
  if (!current) throw new Error(`Patroni on node ${nodeName}'s primary does not answer`);
  const declared = Object.keys(current.slots ?? {});
  const settled = !o.without?.length && !o.dropping?.length && declared.length === slots.length && slots.every((s) => declared.includes(s.name));
  if (settled) return wantedSlots(slots, declared);
  const subscribers = db.spec.nodes.map((n) => n.name).filter((n) => n !== nodeName && !o.without?.includes(n));
  const rec = await recordedSlots(deps, { ...db, instances: db.instances ?? planInstances(db.databaseId, db.spec) }, nodeName, subscribers);
  const recorded = Object.values(rec.slots);
  const wanted = wantedSlots(slots, recorded, { keep: rec.unanswered.length > 0 ? declared : [], dropping: o.dropping ?? [] });
  const patch = slotsPatch(current.slots, wanted);
  if (patch) await patchDynamicConfig(leaderIp, db.secrets, patch);
  return wanted;
}
