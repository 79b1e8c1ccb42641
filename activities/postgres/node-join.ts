// The activities of a zero-downtime add-node (workflows/procedures/node-membership.ts orders them) and of a node's
// removal. Each one acts on one node's current primary, resolved when it runs, and checks before it acts, so any of
// them can be retried or re-run after a worker dies.
import { CancelledFailure } from '@temporalio/activity';
import type pg from 'pg';
import { ids } from '../../workflows/model/ids.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { loadDatabase, type DatabaseContext } from '../database-context.js';
import { pollUntil } from '../heartbeats.js';
import { lsnAtLeast } from '../replication/driver.js';
import { syncPermanentSlots } from '../patroni/ha.js';
import { nodeCluster } from '../patroni/node-cluster.js';
import { withClient } from './connect.js';
import { driverOfNode, findPrimary, replicationDsn, resolvePrimary } from './node-database.js';
import { recordedSlots } from '../replication/slot-owners.js';
import { listInstances } from '../../store/instances.js';
import { copyRoleStatements, type RoleRow } from './roles.js';

type Positions = Record<string, string>;

export function nodeJoinActivities(deps: HostDeps) {
  /** Runs fn on the node's primary, in the application database (or another one). */
  async function onPrimary<T>(db: DatabaseContext, nodeName: string, fn: (c: pg.Client) => Promise<T>, database = db.spec.database_name): Promise<T> {
    const primary = await resolvePrimary(deps, db, nodeName);
    return withClient(primary.address, db.secrets, database, fn);
  }
  const lsnReached = async (c: pg.Client, lsn: string | null, target: string) =>
    lsn !== null && (await c.query<{ ok: boolean }>(lsnAtLeast, [lsn, target])).rows[0]!.ok;

  return {
    /** Roles of the source the new node lacks (users made outside the spec too), with their password hashes. */
    async copyRoles({ databaseId, nodeName, source }: { databaseId: string; nodeName: string; source: string }): Promise<{ created: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const roles = await onPrimary(db, source, async (c) => (await c.query<RoleRow>(`
        SELECT a.rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin, a.rolreplication,
               a.rolbypassrls, a.rolconnlimit, a.rolpassword, a.rolvaliduntil::text AS rolvaliduntil,
               coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                         WHERE m.member = a.oid), '{}'::text[]) AS member_of
        FROM pg_authid a WHERE a.oid >= 16384 AND a.rolname !~ '^pg_' ORDER BY a.rolname`)).rows, 'postgres');
      return onPrimary(db, nodeName, async (c) => {
        const existing = new Set((await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname));
        const missing = roles.filter((r) => !existing.has(r.rolname));
        for (const stmt of copyRoleStatements(missing, roles)) await c.query(stmt);
        return { created: missing.map((r) => r.rolname) };
      }, 'postgres');
    },

    /** On the new node: one disabled, never-initialised subscription per peer other than the source. */
    async prepareJoinSubscriptions({ databaseId, nodeName, providers }: { databaseId: string; nodeName: string; providers: string[] }): Promise<Record<string, string>> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName).join;
      return onPrimary(db, nodeName, async (c) => {
        const slots: Record<string, string> = {};
        for (const p of providers) {
          slots[p] = (await driver.prepareSubscription(c, { name: ids.subscription(nodeName, p), providerDsn: replicationDsn(db, p) })).slotName;
        }
        return slots;
      });
    },

    /** On a peer: the slot the new node will read, from now on keeping every change the peer makes. */
    async reserveJoinSlot({ databaseId, provider, slotName }: { databaseId: string; provider: string; slotName: string }): Promise<{ lsn: string }> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, provider).join;
      return onPrimary(db, provider, async (c) => {
        const slot = await driver.ensureSlot(c, slotName);
        await driver.heartbeat(c); // a commit after the slot, so the source's position for this peer passes it
        return slot;
      });
    },

    /** On the source: waits until it has applied everything the peer committed before the new node's slot. */
    async waitSourceApplied({ databaseId, source, provider, lsn }: { databaseId: string; source: string; provider: string; lsn: string }): Promise<{ applied: string }> {
      const db = await loadDatabase(deps.store, databaseId);
      const sub = ids.subscription(source, provider);
      let lastBeat = Date.now();
      return pollUntil(`node ${source} to apply node ${provider}'s changes up to ${lsn}`, 5 * 60_000, async () => {
        const applied = await onPrimary(db, source, async (c) => {
          const at = await driverOfNode(db, source).join.appliedPosition(c, sub);
          return (await lsnReached(c, at, lsn)) ? at! : { waiting: `${sub} applied up to ${at ?? 'nothing'}` };
        });
        if (typeof applied === 'string') return { applied };
        if (Date.now() - lastBeat > 5000) { // an idle peer: give the source something to apply
          lastBeat = Date.now();
          await onPrimary(db, provider, (c) => driverOfNode(db, provider).join.heartbeat(c));
        }
        return applied;
      });
    },

    /**
     * On a node restored from a backup of the source, before its replication catalog is made anew: per peer, how far
     * the source had applied that peer at the restore's point (its replication origins came with the data).
     */
    async restoredSourcePositions({ databaseId, nodeName, source, providers }: { databaseId: string; nodeName: string; source: string; providers: string[] }): Promise<Positions> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName).join;
      return onPrimary(db, nodeName, async (c) => {
        const positions: Positions = {};
        for (const p of providers) {
          const at = await driver.appliedPosition(c, ids.subscription(source, p));
          if (at === null) throw permanent(FailureType.replication, `the restored data holds no position of node ${p} (subscription ${ids.subscription(source, p)})`);
          positions[p] = at;
        }
        return positions;
      });
    },

    /** On the source: stops applying the peers' changes; returns, per peer, the position the copy will hold. */
    async pauseSourceIntake({ databaseId, source, minimum }: { databaseId: string; source: string; minimum: Positions }): Promise<Positions> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, source).join;
      return onPrimary(db, source, async (c) => {
        const positions: Positions = {};
        for (const [p, min] of Object.entries(minimum)) {
          const sub = ids.subscription(source, p);
          const { lsn } = await driver.pauseSubscription(c, sub);
          if (!(await lsnReached(c, lsn, min))) {
            await driver.resumeSubscription(c, sub);
            throw new Error(`${sub} stopped at ${lsn}, before ${min}: resumed, will pause again`);
          }
          positions[p] = lsn;
        }
        return positions;
      });
    },

    async resumeSourceIntake({ databaseId, source, providers }: { databaseId: string; source: string; providers: string[] }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, source).join;
      await onPrimary(db, source, async (c) => {
        for (const p of providers) await driver.resumeSubscription(c, ids.subscription(source, p));
      });
    },

    /** On the new node: each peer subscription will start where the copy's knowledge of that peer ends. */
    async setJoinStartPositions({ databaseId, nodeName, positions }: { databaseId: string; nodeName: string; positions: Positions }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName).join;
      await onPrimary(db, nodeName, async (c) => {
        for (const [p, lsn] of Object.entries(positions)) await driver.setStartPosition(c, ids.subscription(nodeName, p), lsn);
        await driver.setCatchUpMode(c, db.spec.database_name, true);
      });
    },

    /** On the new node: the copy from the source starts; returns once the source's snapshot is taken. */
    async startJoinCopy({ databaseId, nodeName, source }: { databaseId: string; nodeName: string; source: string }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName).join;
      const sub = ids.subscription(nodeName, source);
      await onPrimary(db, nodeName, (c) => driver.startCopy(c, { name: sub, providerDsn: replicationDsn(db, source) }));
      await waitCopy(db, nodeName, sub, (state) => state !== 'snapshot');
    },

    /** On the new node: waits for the copy to end, then turns on automatic DDL and its replication sets. */
    async finishJoinCopy({ databaseId, nodeName, source }: { databaseId: string; nodeName: string; source: string }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      await waitCopy(db, nodeName, ids.subscription(nodeName, source), (state) => state === 'done');
      await onPrimary(db, nodeName, (c) => driverOfNode(db, nodeName).join.finishNode(c));
    },

    async enableJoinSubscriptions({ databaseId, nodeName, providers }: { databaseId: string; nodeName: string; providers: string[] }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName).join;
      await onPrimary(db, nodeName, async (c) => {
        for (const p of providers) await driver.resumeSubscription(c, ids.subscription(nodeName, p));
      });
    },

    /**
     * On the new node: waits until it has applied every provider past a point after the copy, then leaves catch-up
     * mode (conflicts are judged by commit time again) and restarts its apply workers so they take the setting.
     */
    async waitJoinCaughtUp({ databaseId, nodeName, providers }: { databaseId: string; nodeName: string; providers: string[] }): Promise<Positions> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName);
      const reached: Positions = {};
      // An earlier attempt may have died between disabling and enabling a worker (the restart below): run them all.
      await onPrimary(db, nodeName, async (c) => {
        for (const p of providers) await driver.join.resumeSubscription(c, ids.subscription(nodeName, p));
      });
      for (const p of providers) {
        const sub = ids.subscription(nodeName, p);
        let target = (await onPrimary(db, p, (c) => driverOfNode(db, p).join.heartbeat(c))).lsnBefore;
        let lastBeat = Date.now();
        reached[p] = await pollUntil(`node ${nodeName} to apply node ${p} up to ${target}`, 60 * 60_000, async () => {
          const r = await onPrimary(db, nodeName, async (c) => {
            const at = await driver.join.appliedPosition(c, sub);
            return (await lsnReached(c, at, target)) ? at! : { waiting: `${sub} applied up to ${at ?? 'nothing'}` };
          });
          if (typeof r !== 'string' && Date.now() - lastBeat > 10_000) { // the heartbeat may have met a restarting worker
            lastBeat = Date.now();
            target = (await onPrimary(db, p, (c) => driverOfNode(db, p).join.heartbeat(c))).lsnBefore;
          }
          return r;
        });
      }
      await onPrimary(db, nodeName, async (c) => {
        await driver.join.setCatchUpMode(c, db.spec.database_name, false);
        for (const p of providers) await driver.restartSubscription(c, ids.subscription(nodeName, p));
      });
      return reached;
    },

    /**
     * On an existing node: its subscription to a node that just joined, from a slot made first on that node and
     * with the subscription never initialised. The provider makes the slot itself only at init, with a command its
     * own version builds: pglogical 2.4.2 (PG 15) asks PG 17 for a slot in a syntax PG 17 refuses.
     */
    async subscribeFromSlot({ databaseId, subscriber, provider }: { databaseId: string; subscriber: string; provider: string }): Promise<{ name: string; from: string | null }> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, subscriber).join;
      const name = ids.subscription(subscriber, provider);
      const existing = await onPrimary(db, subscriber, (c) => driverOfNode(db, subscriber).subscriptions(c));
      if (existing.some((x) => x.name === name && x.status !== 'disabled')) return { name, from: null };
      const { slotName } = await onPrimary(db, subscriber, (c) => driver.prepareSubscription(c, { name, providerDsn: replicationDsn(db, provider) }));
      const { lsn } = await onPrimary(db, provider, (c) => driverOfNode(db, provider).join.ensureSlot(c, slotName));
      await onPrimary(db, subscriber, async (c) => {
        // Always set: an origin left by an earlier node of that name counts positions of another server.
        await driver.setStartPosition(c, name, lsn);
        await driver.resumeSubscription(c, name);
      });
      return { name, from: lsn };
    },

    /**
     * On a remaining node, before it lets go of a removed node: applies everything that node committed up to now,
     * so no acknowledged write is lost with it. A removed node that no longer answers cannot be drained: said so.
     */
    async drainNode({ databaseId, nodeName, removed, instanceIds }: { databaseId: string; nodeName: string; removed: string; instanceIds: string[] }): Promise<{ drained: boolean; upTo?: string; reason?: string }> {
      const db = await loadDatabase(deps.store, databaseId);
      const sub = ids.subscription(nodeName, removed);
      const driver = driverOfNode(db, nodeName);
      const exists = await onPrimary(db, nodeName, async (c) => (await driver.subscriptions(c)).some((x) => x.name === sub));
      if (!exists) return { drained: false, reason: `${sub} does not exist` };
      const gone = await resolvePrimary(deps, db, removed, { instanceIds, timeoutMs: 15_000 }).catch(() => null);
      if (!gone) return { drained: false, reason: `node ${removed} has no primary answering` };
      const { lsnBefore } = await withClient(gone.address, db.secrets, db.spec.database_name, (c) => driverOfNode(db, nodeName).join.heartbeat(c));
      try {
        const upTo = await pollUntil(`node ${nodeName} to apply node ${removed} up to ${lsnBefore}`, 3 * 60_000, () =>
          onPrimary(db, nodeName, async (c) => {
            const at = await driver.join.appliedPosition(c, sub);
            return (await lsnReached(c, at, lsnBefore)) ? at! : { waiting: `${sub} applied up to ${at ?? 'nothing'}` };
          }));
        return { drained: true, upTo };
      } catch (err) {
        if (err instanceof CancelledFailure) throw err; // the task is being cancelled: not a replication failure
        throw permanent(FailureType.replication, `${(err as Error).message}: node ${removed} still holds writes node ${nodeName} has not received; `
          + `repair that replication and update again, or pass remove_host for its host to remove it without them`);
      }
    },

    /**
     * On a remaining node: its subscription to the removed node, then the removed node's slots and record here. The
     * slot is the one the removed node's subscription records; a removed node that no longer answers leaves its
     * slots unnamed: then every inactive slot here that no other member's subscription records goes.
     */
    async dropNodeLinks({ databaseId, nodeName, removed }: { databaseId: string; nodeName: string; removed: string }): Promise<{ droppedSlots: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName);
      const doomed = await slotsOfRemovedNode(db, nodeName, removed);
      // Patroni would make a slot it still holds permanent again right after it is dropped: undeclare it first.
      const primary = await resolvePrimary(deps, db, nodeName);
      await syncPermanentSlots(deps, primary.address, db, nodeName, { without: [removed], dropping: doomed });
      await onPrimary(db, nodeName, async (c) => {
        await driver.dropSubscription(c, ids.subscription(nodeName, removed));
        await driver.join.forgetNode(c, { name: removed, slotNames: doomed });
      });
      // The node's replicas hold their own copy of the slot (Patroni copied it while it was declared, or a demoted
      // primary kept its own). Patroni ignores the replication layer's slots, so nothing else would drop it, and the
      // next switchover would bring it back on the primary (chaos run: pgl_app_n1_sub_n3n1 on n1 after n3 left).
      const { cluster, address } = await nodeCluster(deps, db, nodeName);
      for (const [member, ip] of address) {
        if (member === cluster.leader || doomed.length === 0) continue;
        await withClient(ip, db.secrets, 'postgres', async (c) => {
          const { rows } = await c.query<{ slot_name: string }>(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' AND NOT active AND slot_name = ANY($1)", [doomed]);
          for (const r of rows) await c.query('SELECT pg_drop_replication_slot($1)', [r.slot_name]);
        });
      }
      return { droppedSlots: doomed };
    },

    /**
     * On a peer, when a join fails: the slots the new node would have read there (its recorded names, else the names
     * the join reserved) are undeclared and dropped, so a failed join holds no WAL on its peers.
     */
    async releaseJoinSlots({ databaseId, nodeName, providers, known }: { databaseId: string; nodeName: string; providers: string[]; known: Record<string, string> }): Promise<{ released: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const released: string[] = [];
      const recorded = await newNodeSlots(db, nodeName, providers);
      for (const p of providers) {
        const slot = recorded[p] ?? known[p];
        if (!slot) continue;
        const primary = await resolvePrimary(deps, db, p);
        await syncPermanentSlots(deps, primary.address, db, p, { dropping: [slot] });
        await withClient(primary.address, db.secrets, db.spec.database_name, (c) => driverOfNode(db, p).join.dropSlots(c, [slot]));
        released.push(slot);
      }
      return { released };
    },
  };

  /** The slots a node's subscriptions to `providers` record, as far as its primary answers (none when it does not). */
  async function newNodeSlots(db: DatabaseContext, nodeName: string, providers: string[]): Promise<Record<string, string>> {
    const primary = await findPrimary(deps, db, nodeName).catch(() => null);
    if (!primary) return {};
    const subs = await withClient(primary.address, db.secrets, db.spec.database_name, (c) => driverOfNode(db, nodeName).subscriptions(c)).catch(() => []);
    return Object.fromEntries(providers.flatMap((p) => {
      const slot = subs.find((s) => s.name === ids.subscription(nodeName, p))?.slot;
      return slot ? [[p, slot]] : [];
    }));
  }

  /** On `nodeName`: the slots of the node being removed (see dropNodeLinks). */
  async function slotsOfRemovedNode(db: DatabaseContext, nodeName: string, removed: string): Promise<string[]> {
    const removedIds = (await listInstances(deps.store, db.databaseId)).filter((i) => i.nodeName === removed).map((i) => i.id);
    const own = await recordedSlots(deps, db, nodeName, [removed], { instanceIds: { [removed]: removedIds } });
    if (own.slots[removed]) return [own.slots[removed]];
    const others = db.spec.nodes.map((n) => n.name).filter((n) => n !== nodeName && n !== removed);
    const kept = await recordedSlots(deps, db, nodeName, others);
    if (kept.unanswered.length > 0) return []; // whose a slot is cannot be told: none is dropped
    const theirs = Object.values(kept.slots);
    const here = await onPrimary(db, nodeName, (c) => driverOfNode(db, nodeName).join.logicalSlots(c));
    return here.filter((s) => !s.active && !theirs.includes(s.name)).map((s) => s.name);
  }

  async function waitCopy(db: DatabaseContext, nodeName: string, sub: string, done: (state: string) => boolean): Promise<void> {
    let downSince: number | null = null;
    await pollUntil(`the copy of ${sub}`, 60 * 60_000, async () => {
      const state = await onPrimary(db, nodeName, (c) => driverOfNode(db, nodeName).join.copyState(c, sub));
      if (done(state)) return true;
      if (state === 'down') {
        downSince ??= Date.now();
        if (Date.now() - downSince > 20_000) {
          throw permanent(FailureType.replication, `the copy of ${sub} stopped and cannot resume; see the logs of node ${nodeName}`);
        }
      } else downSince = null;
      return { waiting: `${sub}: ${state}` };
    });
  }
}
