// The add-node primitives on pglogical 2. pglogical has no sync events, so positions are read from replication
// origins and slots, and three of its behaviours are designed around (TESTBED.md):
// - create_subscription drops a slot of its name that already exists: a subscription made early is marked
//   synchronized (sync status 'r'), so its worker never runs the init that would drop and remake the slot;
// - copied rows carry the copy's commit time: until the new node has replayed its peers past the copy, peers'
//   changes are applied over copied rows (apply_remote) instead of being judged older than them;
// - an apply worker holds its replication origin: positions are set only while the subscription is disabled.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { superUser } from '../patroni/config.js';
import type { JoinDriver } from './driver.js';
import { autoDdlSql } from './pglogical-autoddl.js';
import { ensureLogicalSlot, originPosition, setOriginPosition, stableOriginPosition, syncPhase } from './origins.js';
import { replicationSets } from './pglogical-sets.js';

async function subscriptionRow(client: pg.ClientBase, name: string): Promise<{ id: number; slot: string; enabled: boolean } | null> {
  const { rows } = await client.query<{ id: number; slot: string; enabled: boolean }>(
    'SELECT sub_id AS id, sub_slot_name AS slot, sub_enabled AS enabled FROM pglogical.subscription WHERE sub_name = $1',
    [name],
  );
  return rows[0] ?? null;
}

async function requireSubscription(client: pg.ClientBase, name: string) {
  const row = await subscriptionRow(client, name);
  if (!row) throw new Error(`subscription ${name} does not exist`);
  return row;
}

/**
 * Recent minor releases (15.20, 17.12, 18.6 here) let logical decoding load only the output plugins listed in
 * output_plugin_libraries. Patroni's parameter validator does not know that setting and removes it from its
 * configuration; ALTER SYSTEM would reach this instance only. So it is set on the superuser role, which the
 * subscribers' walsenders and Patroni's slot copies log in as: a catalog change, streamed to every replica, so a
 * promoted replica serves the slots too.
 */
async function allowOutputPlugin(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ boot: string }>("SELECT boot_val AS boot FROM pg_settings WHERE name = 'output_plugin_libraries'");
  if (!rows[0]) return; // a build without that gate
  const { rows: set } = await client.query<{ value: string | null }>(
    `SELECT (SELECT substr(c, length('output_plugin_libraries=') + 1) FROM unnest(s.setconfig) AS c WHERE c LIKE 'output_plugin_libraries=%') AS value
     FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1 AND s.setdatabase = 0`, [superUser]);
  const current = (set[0]?.value ?? rows[0].boot).split(',').map((l) => l.trim().replace(/^"|"$/g, '')).filter(Boolean);
  if (set[0]?.value && current.includes('pglogical_output')) return;
  const libs = [...new Set([...current, 'pglogical_output'])];
  await client.query(`ALTER ROLE ${superUser} SET output_plugin_libraries = ${libs.map((l) => client.escapeLiteral(l)).join(', ')}`);
}

async function ensureExtensionNode(client: pg.ClientBase, node: { name: string; dsn: string }): Promise<void> {
  await allowOutputPlugin(client);
  await client.query('CREATE EXTENSION IF NOT EXISTS pglogical');
  const { rowCount } = await client.query('SELECT 1 FROM pglogical.node WHERE node_name = $1', [node.name]);
  if (!rowCount) await client.query('SELECT pglogical.create_node(node_name := $1, dsn := $2)', [node.name, node.dsn]);
}

export const pglogicalJoin: JoinDriver = {
  ensureBareNode: ensureExtensionNode,

  async prepareSubscription(client, sub) {
    const existing = await subscriptionRow(client, sub.name);
    if (existing) return { slotName: existing.slot };
    await client.query('BEGIN');
    try {
      await client.query(
        `SELECT pglogical.create_subscription(subscription_name := $1, provider_dsn := $2, replication_sets := $3,
           synchronize_structure := false, synchronize_data := false, forward_origins := '{}')`,
        [sub.name, sub.providerDsn, replicationSets],
      );
      // Marked synchronized and disabled in the same transaction: no worker ever runs its init.
      await client.query(
        `UPDATE pglogical.local_sync_status SET sync_status = 'r'
         WHERE sync_subid = (SELECT sub_id FROM pglogical.subscription WHERE sub_name = $1) AND sync_relname IS NULL`,
        [sub.name],
      );
      await client.query('SELECT pglogical.alter_subscription_disable($1, false)', [sub.name]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return { slotName: (await requireSubscription(client, sub.name)).slot };
  },

  ensureSlot: (client, slotName) => ensureLogicalSlot(client, slotName, 'pglogical_output'),

  async heartbeat(client) {
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    // A replicated no-op: subscribers run `SELECT 1`, and their applied position moves past lsnBefore.
    await client.query(
      `INSERT INTO pglogical.queue (queued_at, role, replication_sets, message_type, message)
       VALUES (now(), current_user, ARRAY['ddl_sql'], 'Q', to_json('SELECT 1'::text))`,
    );
    return { lsnBefore: rows[0]!.lsn };
  },

  async appliedPosition(client, subName) {
    return originPosition(client, (await requireSubscription(client, subName)).slot);
  },

  async pauseSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) await client.query('SELECT pglogical.alter_subscription_disable($1, true)', [subName]);
    return { lsn: await stableOriginPosition(client, sub.slot) };
  },

  async resumeSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (!sub.enabled) await client.query('SELECT pglogical.alter_subscription_enable($1, true)', [subName]);
  },

  async setStartPosition(client, subName, lsn) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) throw new Error(`subscription ${subName} already runs: its start position cannot be set any more`);
    await setOriginPosition(client, sub.slot, lsn);
  },

  async startCopy(client, sub) {
    if (await subscriptionRow(client, sub.name)) return;
    await client.query(
      `SELECT pglogical.create_subscription(subscription_name := $1, provider_dsn := $2, replication_sets := $3,
         synchronize_structure := true, synchronize_data := true, forward_origins := '{}')`,
      [sub.name, sub.providerDsn, replicationSets],
    );
  },

  async copyState(client, subName) {
    const sub = await requireSubscription(client, subName);
    const { rows } = await client.query<{ status: string }>(
      'SELECT sync_status AS status FROM pglogical.local_sync_status WHERE sync_subid = $1 AND sync_relname IS NULL',
      [sub.id],
    );
    const phase = syncPhase[rows[0]?.status ?? 'i'] ?? 'copying';
    if (phase !== 'copying') return phase;
    // A copy interrupted past its snapshot cannot resume (pglogical: "nonrecoverable step"): its worker stays down.
    const status = await client.query<{ status: string }>('SELECT status FROM pglogical.show_subscription_status($1)', [subName]);
    return status.rows[0]?.status === 'down' ? 'down' : phase;
  },

  async finishNode(client) {
    await client.query(autoDdlSql);
    await client.query(
      `SELECT pgcp.add_to_set(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname NOT IN ('pglogical', 'pgcp', 'information_schema')
         AND n.nspname !~ '^pg_'`,
    );
  },

  async setCatchUpMode(client, database, on) {
    const db = client.escapeIdentifier(database);
    await client.query(on ? `ALTER DATABASE ${db} SET pglogical.conflict_resolution = 'apply_remote'` : `ALTER DATABASE ${db} RESET pglogical.conflict_resolution`);
  },

  async forgetNode(client, node) {
    for (const sub of node.subscriptionNames) {
      const { rows } = await client.query<{ slot: string }>(
        `SELECT slot_name AS slot FROM pg_replication_slots
         WHERE slot_type = 'logical' AND slot_name LIKE 'pgl\\_%' AND right(slot_name, length($1) + 1) = '_' || $1`,
        [sub],
      );
      for (const r of rows) {
        // A walsender still reading the slot is ended first; it may take a moment to let go.
        for (let attempt = 0; ; attempt++) {
          const { rows: left } = await client.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [r.slot]);
          if (!left[0]) break;
          if (left[0].pid === null) { await client.query('SELECT pg_drop_replication_slot($1)', [r.slot]); break; }
          if (attempt > 50) throw new Error(`slot ${r.slot} stays in use by process ${left[0].pid}`);
          await client.query('SELECT pg_terminate_backend($1)', [left[0].pid]);
          await sleep(200);
        }
      }
    }
    const used = await client.query(
      'SELECT 1 FROM pglogical.subscription s JOIN pglogical.node n ON n.node_id = s.sub_origin WHERE n.node_name = $1',
      [node.name],
    );
    if (!used.rowCount) await client.query('SELECT pglogical.drop_node($1, true)', [node.name]);
  },
};
