// The add-node primitives on Spock 5, with Spock's documented functions (sub_create … enabled := false,
// sub_disable / sub_enable, node_drop) and PostgreSQL's own slot and origin functions. Not exercised here (see
// spock.ts); the protocol is the one pglogical-join.ts runs, which is what the tests prove.
import type pg from 'pg';
import type { JoinDriver } from './driver.js';

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

const syncPhase: Record<string, string> = { i: 'snapshot', s: 'copying', d: 'copying', c: 'copying', u: 'done', y: 'done', r: 'done' };

export const spockJoin: JoinDriver = {
  async ensureBareNode(client, node) {
    await client.query('CREATE EXTENSION IF NOT EXISTS spock');
    const { rowCount } = await client.query('SELECT 1 FROM spock.node WHERE node_name = $1', [node.name]);
    if (!rowCount) await client.query('SELECT spock.node_create(node_name := $1, dsn := $2)', [node.name, node.dsn]);
  },

  async prepareSubscription(client, sub) {
    const existing = await subscriptionRow(client, sub.name);
    if (existing) return { slotName: existing.slot };
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
    return { slotName: (await requireSubscription(client, sub.name)).slot };
  },

  async ensureSlot(client, slotName) {
    const { rows } = await client.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slotName]);
    if (rows[0]) return { lsn: rows[0].lsn };
    const made = await client.query<{ lsn: string }>("SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'spock_output')", [slotName]);
    return { lsn: made.rows[0]!.lsn };
  },

  async heartbeat(client) {
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await client.query('SELECT spock.sync_event()');
    return { lsnBefore: rows[0]!.lsn };
  },

  async appliedPosition(client, subName) {
    const sub = await requireSubscription(client, subName);
    const { rows } = await client.query<{ lsn: string | null }>(
      'SELECT CASE WHEN pg_replication_origin_oid($1) IS NULL THEN NULL ELSE pg_replication_origin_progress($1, false)::text END AS lsn',
      [sub.slot],
    );
    return rows[0]?.lsn ?? null;
  },

  async pauseSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) await client.query('SELECT spock.sub_disable($1, immediate := true)', [subName]);
    await client.query('SELECT pg_replication_origin_session_setup($1)', [sub.slot]);
    try {
      const { rows } = await client.query<{ lsn: string | null }>('SELECT pg_replication_origin_progress($1, true)::text AS lsn', [sub.slot]);
      return { lsn: rows[0]?.lsn ?? '0/0' };
    } finally {
      await client.query('SELECT pg_replication_origin_session_reset()');
    }
  },

  async resumeSubscription(client, subName) {
    const sub = await requireSubscription(client, subName);
    if (!sub.enabled) await client.query('SELECT spock.sub_enable($1, immediate := true)', [subName]);
  },

  async setStartPosition(client, subName, lsn) {
    const sub = await requireSubscription(client, subName);
    if (sub.enabled) throw new Error(`subscription ${subName} already runs: its start position cannot be set any more`);
    await client.query('SELECT pg_replication_origin_create($1) WHERE pg_replication_origin_oid($1) IS NULL', [sub.slot]);
    await client.query('SELECT pg_replication_origin_advance($1, $2::pg_lsn)', [sub.slot, lsn]);
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
