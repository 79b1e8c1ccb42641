// The add-node primitives on Spock 5, with Spock's documented functions (sub_create … enabled := false,
// sub_disable / sub_enable, node_drop) and PostgreSQL's own slot and origin functions. Not exercised here (see
// spock.ts); the protocol is the one pglogical-join.ts runs, which is what the tests prove.
import type pg from 'pg';
import type { JoinDriver } from './driver.js';
import { ensureLogicalSlot, originPosition, setOriginPosition, stableOriginPosition, syncPhase } from './origins.js';

async function subscriptionRow(client: pg.ClientBase, name: string): Promise<{ id: number; slot: string; enabled: boolean } | null> {
  const { rows } = await client.query<{ id: number; slot: string; enabled: boolean }>(
    'SELECT sub_id AS id, sub_slot_name AS slot, sub_enabled AS enabled FROM spock.subscription WHERE sub_name = $1',
    [name],
  );
  return rows[0] ?? null;
}

async function requireSubscription(client: pg.ClientBase, name: string) {
  const row = await subscriptionRow(client, name);
  if (!row) throw new Error(`subscription ${name} does not exist`);
  return row;
}

export const spockJoin: JoinDriver = {
  async ensureBareNode(client, node) {
    await client.query('CREATE EXTENSION IF NOT EXISTS spock');
    const { rowCount } = await client.query('SELECT 1 FROM spock.node WHERE node_name = $1', [node.name]);
    if (!rowCount) await client.query('SELECT spock.node_create(node_name := $1, dsn := $2)', [node.name, node.dsn]);
  },

  async prepareSubscription(client, sub) {
    const existing = await subscriptionRow(client, sub.name);
    if (existing) return { slotName: existing.slot };
    await client.query('BEGIN'); // made and marked synchronised at once: a crash between the two would leave an init to run
    try {
      await client.query(
        `SELECT spock.sub_create(subscription_name := $1, provider_dsn := $2, synchronize_structure := false,
           synchronize_data := false, forward_origins := '{}', enabled := false)`,
        [sub.name, sub.providerDsn],
      );
      await client.query(
        `UPDATE spock.local_sync_status SET sync_status = 'r'
         WHERE sync_subid = (SELECT sub_id FROM spock.subscription WHERE sub_name = $1) AND sync_relname IS NULL`,
        [sub.name],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return { slotName: (await requireSubscription(client, sub.name)).slot };
  },

  ensureSlot: (client, slotName) => ensureLogicalSlot(client, slotName, 'spock_output'),

  async heartbeat(client) {
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await client.query('SELECT spock.sync_event()');
    return { lsnBefore: rows[0]!.lsn };
  },

  async appliedPosition(client, subName) {
    return originPosition(client, (await requireSubscription(client, subName)).slot);
  },

  async pauseSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) await client.query('SELECT spock.sub_disable($1, immediate := true)', [subName]);
    return { lsn: await stableOriginPosition(client, sub.slot) };
  },

  async resumeSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (!sub.enabled) await client.query('SELECT spock.sub_enable($1, immediate := true)', [subName]);
  },

  async setStartPosition(client, subName, lsn) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) throw new Error(`subscription ${subName} already runs: its start position cannot be set any more`);
    await setOriginPosition(client, sub.slot, lsn);
  },

  async startCopy(client, sub) {
    if (await subscriptionRow(client, sub.name)) return;
    await client.query(
      `SELECT spock.sub_create(subscription_name := $1, provider_dsn := $2, synchronize_structure := true,
         synchronize_data := true, forward_origins := '{}', enabled := true)`,
      [sub.name, sub.providerDsn],
    );
  },

  async copyState(client, subName) {
    const sub = await requireSubscription(client, subName);
    const { rows } = await client.query<{ status: string }>(
      'SELECT sync_status AS status FROM spock.local_sync_status WHERE sync_subid = $1 AND sync_relname IS NULL',
      [sub.id],
    );
    const phase = syncPhase[rows[0]?.status ?? 'i'] ?? 'copying';
    if (phase !== 'copying') return phase;
    const status = await client.query<{ status: string }>('SELECT status FROM spock.sub_show_status($1)', [subName]);
    return status.rows[0]?.status === 'down' ? 'down' : phase;
  },

  async finishNode() {
    // Spock's AutoDDL is a setting (ensureNode) and adds new tables to the default sets by itself.
  },

  async setCatchUpMode(client, database, on) {
    const db = client.escapeIdentifier(database);
    await client.query(on ? `ALTER DATABASE ${db} SET spock.conflict_resolution = 'apply_remote'` : `ALTER DATABASE ${db} RESET spock.conflict_resolution`);
  },

  async forgetNode(client, node) {
    for (const sub of node.subscriptionNames) {
      await client.query(
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
         WHERE slot_type = 'logical' AND NOT active AND slot_name LIKE 'spk\\_%' AND right(slot_name, length($1) + 1) = '_' || $1`,
        [sub],
      );
    }
    await client.query('SELECT spock.node_drop($1, ifexists := true)', [node.name]);
  },
};
