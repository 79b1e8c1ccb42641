// The add-node primitives (JoinDriver in driver.ts), once for pglogical and Spock: their names come from the
// catalog, positions from PostgreSQL's own slots and replication origins (origins.ts). Three behaviours of the
// replication layer are designed around (each seen on pglogical 2.4; Spock is its descendant):
// - create_subscription drops a slot of its name that already exists: a subscription made early is marked
//   synchronized (sync status 'r'), so its worker never runs the init that would drop and remake the slot;
// - copied rows carry the copy's commit time: until the new node has replayed its peers past the copy, peers'
//   changes are applied over copied rows (apply_remote; a layer without it refuses such a join) instead of being judged older;
// - an apply worker holds its replication origin: positions are set only while the subscription is disabled.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { superUser } from '../patroni/config.js';
import type { ReplicationCatalog } from './catalogs.js';
import type { JoinDriver } from './driver.js';
import { ensureLogicalSlot, originPosition, setOriginPosition, stableOriginPosition, syncPhase } from './origins.js';
import { createSubscription, requireSubscription, setSubscriptionEnabled, subscriptionRow } from './subscriptions.js';

/**
 * Recent minor releases (15.20, 17.12, 18.6 here) let logical decoding load only the output plugins listed in
 * output_plugin_libraries. Patroni's parameter validator does not know that setting and removes it from its
 * configuration; ALTER SYSTEM would reach this instance only. So it is set on the superuser role, which the
 * subscribers' walsenders and Patroni's slot copies log in as: a catalog change, streamed to every replica, so a
 * promoted replica serves the slots too.
 */
async function allowOutputPlugin(client: pg.ClientBase, plugin: string): Promise<void> {
  const { rows } = await client.query<{ boot: string }>("SELECT boot_val AS boot FROM pg_settings WHERE name = 'output_plugin_libraries'");
  if (!rows[0]) return; // a build without that gate
  const { rows: set } = await client.query<{ value: string | null }>(
    `SELECT (SELECT substr(c, length('output_plugin_libraries=') + 1) FROM unnest(s.setconfig) AS c WHERE c LIKE 'output_plugin_libraries=%') AS value
     FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1 AND s.setdatabase = 0`, [superUser]);
  const current = (set[0]?.value ?? rows[0].boot).split(',').map((l) => l.trim().replace(/^"|"$/g, '')).filter(Boolean);
  if (set[0]?.value && current.includes(plugin)) return;
  const libs = [...new Set([...current, plugin])];
  await client.query(`ALTER ROLE ${superUser} SET output_plugin_libraries = ${libs.map((l) => client.escapeLiteral(l)).join(', ')}`);
}

/** Drops the slot, ending first a walsender still reading it (it may take a moment to let go). */
async function dropSlot(client: pg.ClientBase, slot: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (!rows[0]) return;
    if (rows[0].pid === null) { await client.query('SELECT pg_drop_replication_slot($1)', [slot]); return; }
    if (attempt > 50) throw new Error(`slot ${slot} stays in use by process ${rows[0].pid}`);
    await client.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await sleep(200);
  }
}

export function createJoin(cat: ReplicationCatalog): JoinDriver {
  const s = cat.schema;
  return {
    async allowOutputPlugin(client) {
      await allowOutputPlugin(client, cat.outputPlugin);
    },

    async ensureBareNode(client, node) {
      await allowOutputPlugin(client, cat.outputPlugin);
      await client.query(`CREATE EXTENSION IF NOT EXISTS ${cat.name}`);
      const { rowCount } = await client.query(`SELECT 1 FROM ${s}.node WHERE node_name = $1`, [node.name]);
      if (!rowCount) await client.query(`SELECT ${cat.createNode}(node_name := $1, dsn := $2)`, [node.name, node.dsn]);
    },

    async prepareSubscription(client, sub) {
      const existing = await subscriptionRow(client, cat, sub.name);
      if (existing) return { slotName: existing.slot };
      await client.query('BEGIN');
      try {
        await createSubscription(client, cat, sub, { copy: false, enabled: false });
        // Marked synchronized and disabled in the same transaction: no worker ever runs its init.
        await client.query(
          `UPDATE ${s}.local_sync_status SET sync_status = 'r'
           WHERE sync_subid = (SELECT sub_id FROM ${s}.subscription WHERE sub_name = $1) AND sync_relname IS NULL`,
          [sub.name],
        );
        if (!cat.createTakesEnabled) await setSubscriptionEnabled(client, cat, sub.name, false, false);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return { slotName: (await requireSubscription(client, cat, sub.name)).slot };
    },

    ensureSlot: (client, slotName) => ensureLogicalSlot(client, slotName, cat.outputPlugin),

    async heartbeat(client) {
      const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      await client.query(cat.heartbeat);
      return { lsnBefore: rows[0]!.lsn };
    },

    async appliedPosition(client, subName) {
      return originPosition(client, (await requireSubscription(client, cat, subName)).slot);
    },

    async pauseSubscription(client, subName) {
      const sub = await requireSubscription(client, cat, subName);
      if (sub.enabled) await setSubscriptionEnabled(client, cat, subName, false);
      return { lsn: await stableOriginPosition(client, sub.slot) };
    },

    async resumeSubscription(client, subName) {
      const sub = await requireSubscription(client, cat, subName);
      if (!sub.enabled) await setSubscriptionEnabled(client, cat, subName, true);
    },

    async setStartPosition(client, subName, lsn) {
      const sub = await requireSubscription(client, cat, subName);
      if (sub.enabled) throw new Error(`subscription ${subName} already runs: its start position cannot be set any more`);
      await setOriginPosition(client, sub.slot, lsn);
    },

    async startCopy(client, sub) {
      if (await subscriptionRow(client, cat, sub.name)) return;
      await createSubscription(client, cat, sub, { copy: true, enabled: true });
    },

    async copyState(client, subName) {
      const sub = await requireSubscription(client, cat, subName);
      const { rows } = await client.query<{ status: string }>(
        `SELECT sync_status AS status FROM ${s}.local_sync_status WHERE sync_subid = $1 AND sync_relname IS NULL`,
        [sub.id],
      );
      const phase = syncPhase[rows[0]?.status ?? 'i'] ?? 'copying';
      if (phase !== 'copying') return phase;
      // A copy interrupted past its snapshot cannot resume (pglogical: "nonrecoverable step"): its worker stays down.
      const status = await client.query<{ status: string }>(`SELECT status FROM ${cat.subscriptionStatus}($1)`, [subName]);
      return status.rows[0]?.status === 'down' ? 'down' : phase;
    },

    async finishNode(client) {
      await cat.enableAutoDdl(client);
      await client.query(cat.addExistingTables);
    },

    async setCatchUpMode(client, database, on) {
      if (!cat.catchUpSetting) {
        // Without it, copied rows (stamped with the copy's commit time) would win over older peer changes made during
        // the copy, and those changes would be lost: refuse the join loudly rather than lose them quietly.
        if (on) throw new Error(`${cat.schema} has no conflict resolution that applies peers' changes over copied rows: a node cannot be joined by copy without losing changes made during the copy`);
        return;
      }
      const db = client.escapeIdentifier(database);
      await client.query(on ? `ALTER DATABASE ${db} SET ${cat.catchUpSetting} = 'apply_remote'` : `ALTER DATABASE ${db} RESET ${cat.catchUpSetting}`);
    },

    async logicalSlots(client) {
      const { rows } = await client.query<{ name: string; active: boolean }>(
        "SELECT slot_name AS name, active FROM pg_replication_slots WHERE slot_type = 'logical' AND plugin = $1 ORDER BY slot_name", [cat.outputPlugin]);
      return rows;
    },

    async dropSlots(client, slotNames) {
      for (const slot of slotNames) await dropSlot(client, slot);
    },

    async forgetNode(client, node) {
      for (const slot of node.slotNames) await dropSlot(client, slot);
      // The node record goes once no subscription here reads from it.
      const used = await client.query(
        `SELECT 1 FROM ${s}.subscription s JOIN ${s}.node n ON n.node_id = s.sub_origin WHERE n.node_name = $1`,
        [node.name],
      );
      if (!used.rowCount) await client.query(`SELECT ${cat.dropNode}($1, ifexists := true)`, [node.name]);
    },
  };
}
