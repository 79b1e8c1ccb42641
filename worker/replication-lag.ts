// How far behind each reader of a primary's WAL is, measured on the primary itself (so a stopped subscriber or
// replica still shows, growing): every replication slot (logical ones are the subscriptions of the node's peers,
// physical ones Patroni's replicas), and every streaming replica. Bytes come from WAL positions; seconds from
// Postgres's replay_lag while the reader is connected, else from this monitor's own history of WAL positions (when
// the WAL first went past what the reader has confirmed).
import type pg from 'pg';
import type { ReplicaLag, SlotLag } from '../store/instances.js';
import { ids } from '../workflows/model/ids.js';
import { standbyKey } from '../workflows/model/ha.js';

/** WAL positions of one primary over time, one sample per change, to tell since when a reader is behind. */
export class LsnHistory {
  private samples: { at: number; lsn: bigint }[] = [];
  constructor(private readonly max = 4000) {}

  record(at: number, lsn: bigint): void {
    const last = this.samples.at(-1);
    if (last && last.lsn === lsn) return;
    this.samples.push({ at, lsn });
    if (this.samples.length > this.max) this.samples.splice(0, this.samples.length - this.max);
  }

  /** Seconds since the WAL first went past `confirmed` (0 when it has not); a lower bound when history is short. */
  secondsBehind(confirmed: bigint, now: number): number {
    const first = this.samples.find((s) => s.lsn > confirmed);
    return first ? Math.max(0, (now - first.at) / 1000) : 0;
  }
}

/**
 * What the monitor tells on the primary's instance about its lost slots: Postgres invalidated them (past
 * max_slot_wal_keep_size, activities/patroni/config.ts), so their subscribers can never catch up by themselves.
 */
export function lostSlotsError(slots: SlotLag[]): string | undefined {
  const lost = slots.filter((s) => s.walStatus === 'lost');
  if (lost.length === 0) return undefined;
  const what = lost.map((s) => (s.subscriberNode ? `${s.name} (node ${s.subscriberNode}'s subscription ${s.subscription})` : s.name));
  return `replication slot${lost.length > 1 ? 's' : ''} ${what.join(', ')} lost: Postgres removed WAL ${lost.length > 1 ? 'they' : 'it'} still needed (past max_slot_wal_keep_size); `
    + 'the subscriber cannot catch up and must be removed from the database and added again';
}

/** '16/B374D848' → its byte position. */
export function lsnToBigInt(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/**
 * The subscription a logical slot serves, from `owners` (slot name → subscriber node: the names the subscribers'
 * subscriptions record). Never guessed from the slot's name: pglogical and Spock shorten long names with a hash.
 */
export function subscriptionOfSlot(slotName: string, owners: Record<string, string>, provider: string): { subscription: string; subscriberNode: string } | undefined {
  const node = Object.hasOwn(owners, slotName) ? owners[slotName] : undefined;
  return node && node !== provider ? { subscription: ids.subscription(node, provider), subscriberNode: node } : undefined;
}

interface SlotRow { slot_name: string; slot_type: 'logical' | 'physical'; active: boolean; retained: number | null; confirmed: string | null; replay_lag: number | null; wal_status: string | null }
interface ReplicaRow { name: string; state: string; sync_state: string | null; lag_bytes: number | null; lag_seconds: number | null }

/** Reads slots and replicas on a primary (any database of it): what the monitor reports as the instance's lag. */
/** slotOwners: slot name → subscriber node for the given logical slots (recorded by the subscribers' subscriptions). */
export async function readReplicationLag(
  client: pg.ClientBase,
  o: { nodeName: string; slotOwners: (logicalSlots: string[]) => Promise<Record<string, string>>; history: LsnHistory; now?: number },
): Promise<{ walLsn: string; slots: SlotLag[]; replicas: ReplicaLag[] }> {
  const now = o.now ?? Date.now();
  const { rows: [head] } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const walLsn = head?.lsn ?? '0/0';
  const current = lsnToBigInt(walLsn);
  o.history.record(now, current);
  const { rows: slots } = await client.query<SlotRow>(
    `SELECT s.slot_name, s.slot_type, s.active,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 AS retained,
            s.confirmed_flush_lsn::text AS confirmed,
            extract(epoch FROM r.replay_lag)::float8 AS replay_lag,
            s.wal_status
       FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
      ORDER BY s.slot_name`,
  );
  const { rows: replicas } = await client.query<ReplicaRow>(
    `SELECT r.application_name AS name, r.state, r.sync_state,
            pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8 AS lag_bytes,
            extract(epoch FROM r.replay_lag)::float8 AS lag_seconds
       FROM pg_stat_replication r
      WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
      ORDER BY r.application_name`,
  );
  const owners = await o.slotOwners(slots.filter((s) => s.slot_type === 'logical').map((s) => s.slot_name));
  return {
    walLsn,
    slots: slots.map((s): SlotLag => {
      const confirmed = s.confirmed ? lsnToBigInt(s.confirmed) : undefined;
      const lagBytes = confirmed === undefined ? undefined : Number(current > confirmed ? current - confirmed : 0n);
      // Connected: Postgres's own measure (null once caught up and idle); else since when the WAL is past it.
      const lagSeconds = confirmed === undefined ? undefined : s.active ? (s.replay_lag ?? 0) : o.history.secondsBehind(confirmed, now);
      const sub = s.slot_type === 'logical' ? subscriptionOfSlot(s.slot_name, owners, o.nodeName) : undefined;
      return {
        name: s.slot_name, type: s.slot_type, active: s.active, retainedBytes: Math.max(0, s.retained ?? 0),
        ...(s.wal_status ? { walStatus: s.wal_status } : {}),
        ...(lagBytes !== undefined ? { lagBytes } : {}), ...(lagSeconds !== undefined ? { lagSeconds } : {}),
        ...(sub ? { subscription: sub.subscription, subscriberNode: sub.subscriberNode } : {}),
      };
    }),
    replicas: replicas.map((r) => ({ instanceId: r.name, state: r.state, ...(r.sync_state ? { syncState: r.sync_state } : {}), lagBytes: Math.max(0, r.lag_bytes ?? 0), lagSeconds: r.lag_seconds ?? 0 })),
  };
}

/**
 * Pure: a replica is reported `sync` only once Patroni also lists it as the node's synchronous standby (its /sync
 * key, `sync_standby` in its cluster view): Postgres calls it `sync` as soon as Patroni names it, and Patroni records it
 * (and would promote it) only once it has seen it confirm, 2 s or more later. Until then it is `potential`.
 */
export function promotableSyncState(replicas: ReplicaLag[], syncStandbys: string[]): ReplicaLag[] {
  const listed = new Set(syncStandbys.map(standbyKey));
  return replicas.map((r) => (r.syncState === 'sync' && !listed.has(standbyKey(r.instanceId)) ? { ...r, syncState: 'potential' } : r));
}
