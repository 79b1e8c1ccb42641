// Pure: decisions about a node's Patroni cluster — which replica takes over, whether the node is healthy, and
// which logical slots Patroni must keep on the replicas so that subscribers survive a primary change.
export interface Member { name: string; role: string; state: string; lag?: number | string }

const leaderRoles = ['leader', 'master', 'standby_leader'];
const replicaStates = ['streaming', 'running'];

export const isLeader = (m: Member) => leaderRoles.includes(m.role);
/** A replica the primary's commits wait for (Patroni's synchronous_mode): the only kind Patroni lets take over. */
export const isSyncStandby = (m: Member) => m.role === 'sync_standby';
/**
 * A synchronous standby Patroni would promote now: listed as one, and running by its own member key. The listing
 * alone can be a loop stale: a replica Patroni restarts (to load the logical slots it copies, for one) stays listed
 * until the primary's next loop, which counts only members whose key says running and drops it for a while.
 */
export const isPromotableStandby = (m: Member) => isSyncStandby(m) && replicaStates.includes(m.state);

/**
 * Pure: how long a condition seen at `now` has held without a break, given when it was first seen to hold
 * (`since`, null when it did not): the new `since` and the time held.
 */
export function heldSince(since: number | null, holds: boolean, now: number): { since: number | null; heldMs: number } {
  if (!holds) return { since: null, heldMs: 0 };
  const from = since ?? now;
  return { since: from, heldMs: now - from };
}

/** Healthy: a leader that runs Postgres. Failover without skip_validation is refused then. */
export function nodeHealthy(members: Member[]): boolean {
  return members.some((m) => isLeader(m) && m.state === 'running');
}

/**
 * The member to promote: the one asked for — a running replica, or the leader itself (nothing to hand over) —
 * else a synchronous standby (it holds every acknowledged commit), then the running replica with the least lag (ties
 * by name, so the choice is stable). `{ refused }` with the
 * reason when the asked one is not a member or not a running replica, or when no replica runs.
 */
export function pickCandidate(members: Member[], asked?: string): { name: string } | { refused: string } {
  const eligible = members.filter((m) => !isLeader(m) && replicaStates.includes(m.state));
  if (asked) {
    const m = members.find((x) => x.name === asked);
    if (!m) return { refused: `instance ${asked} is not a member of the node's cluster` };
    if (isLeader(m)) return { name: asked };
    if (!eligible.includes(m)) return { refused: `instance ${asked} is not a running replica (state ${m.state})` };
    return { name: asked };
  }
  const lag = (m: Member) => (typeof m.lag === 'number' ? m.lag : Number.MAX_SAFE_INTEGER);
  const sync = (m: Member) => (isSyncStandby(m) ? 0 : 1);
  const best = [...eligible].sort((a, b) => sync(a) - sync(b) || lag(a) - lag(b) || a.name.localeCompare(b.name))[0];
  return best ? { name: best.name } : { refused: 'no running replica to take over' };
}

export interface LogicalSlot { name: string; database: string; plugin: string }
export type PermanentSlots = Record<string, { type: 'logical'; database: string; plugin: string }>;

/**
 * The slots on a provider's primary that Patroni must keep on its replicas: those its subscribers' subscriptions
 * record as theirs (`recorded`; pglogical and Spock shorten long names with a hash, so a slot is never recognised
 * by its name's ending), and `keep` (declared ones left declared while a subscriber could not be asked). A slot
 * being dropped (`dropping`) is never kept: Patroni would make it again.
 */
export function wantedSlots(slots: LogicalSlot[], recorded: string[], o: { keep?: string[]; dropping?: string[] } = {}): PermanentSlots {
  const out: PermanentSlots = {};
  for (const s of slots) {
    if (o.dropping?.includes(s.name)) continue;
    if (recorded.includes(s.name) || o.keep?.includes(s.name)) out[s.name] = { type: 'logical', database: s.database, plugin: s.plugin };
  }
  return out;
}

/** The PATCH /config body turning the DCS's `slots` into `wanted` (null removes a key); null when equal. */
export function slotsPatch(current: Record<string, unknown> | undefined, wanted: PermanentSlots): { slots: Record<string, unknown> } | null {
  const patch: Record<string, unknown> = {};
  for (const name of Object.keys(current ?? {})) if (!(name in wanted)) patch[name] = null;
  for (const [name, v] of Object.entries(wanted)) if (JSON.stringify(current?.[name]) !== JSON.stringify(v)) patch[name] = v;
  return Object.keys(patch).length > 0 ? { slots: patch } : null;
}

/** A standby's name as Postgres and Patroni compare them: case-insensitively. */
export const standbyKey = (name: string) => name.toLowerCase();

/**
 * The standbys `synchronous_standby_names` names, as Patroni writes it: `"a"`, `2 ("a","b")`, `ANY 1 ("a")`, `*`.
 * As standbyKey gives them.
 */
export function namedStandbys(ssn: string): string[] {
  const s = ssn.trim();
  if (!s) return [];
  const list = /^(?:(?:ANY|FIRST)\s+)?\d+\s*\((.*)\)$/is.exec(s)?.[1] ?? s;
  return list.split(',').map((x) => x.trim().replace(/^"(.*)"$/s, '$1').replace(/""/g, '"')).map(standbyKey).filter((x) => x.length > 0);
}

/**
 * Pure: commits wait for a synchronous standby that no longer streams — none of the names in
 * `synchronous_standby_names` is among the primary's streaming walsenders. Patroni drops such a standby within a
 * loop; Patroni 3.0.2 (the Postgres 15 image) misses one that vanished during the 2 s it waits after naming it, and
 * keeps it named for good (its DCS key never listed it), so every commit on the node waits forever.
 */
export function waitsForGoneStandby(ssn: string, streaming: string[]): boolean {
  const named = namedStandbys(ssn);
  if (named.length === 0 || named.includes('*')) return false;
  const live = new Set(streaming.map(standbyKey));
  return !named.some((n) => live.has(n));
}
