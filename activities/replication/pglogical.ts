import type { ReplicationDriver, SubscriptionStatus } from './driver.js';
import { ensureSubscriptionDsn, pglogicalInterfaces } from './interfaces.js';
import { autoDdlSql } from './pglogical-autoddl.js';
import { pglogicalJoin } from './pglogical-join.js';
import { replicationSets, userTablesQuery } from './pglogical-sets.js';

export const pglogicalDriver: ReplicationDriver = {
  name: 'pglogical',

  join: pglogicalJoin,

  async ensureNode(client, node) {
    await pglogicalJoin.ensureBareNode(client, node);
    await client.query(autoDdlSql);
  },

  async ensureSubscription(client, sub) {
    const { rows } = await client.query<{ enabled: boolean }>('SELECT sub_enabled AS enabled FROM pglogical.subscription WHERE sub_name = $1', [sub.name]);
    if (rows[0]) {
      // Converged means running: a subscription left disabled (a join stopped mid-way) is enabled again.
      if (!rows[0].enabled) await client.query('SELECT pglogical.alter_subscription_enable($1, true)', [sub.name]);
      await ensureSubscriptionDsn(client, pglogicalInterfaces, sub.name, sub.providerDsn); // the provider's members changed
      return;
    }
    await client.query(
      `SELECT pglogical.create_subscription(subscription_name := $1, provider_dsn := $2, replication_sets := $3,
         synchronize_structure := false, synchronize_data := false, forward_origins := '{}')`,
      [sub.name, sub.providerDsn, replicationSets],
    );
  },

  async dropSubscription(client, name) {
    await client.query('SELECT pglogical.drop_subscription($1, ifexists := true)', [name]);
  },

  async subscriptions(client): Promise<SubscriptionStatus[]> {
    const { rows } = await client.query<{ subscription_name: string; provider_node: string; status: string }>(
      'SELECT subscription_name, provider_node, status FROM pglogical.show_subscription_status() ORDER BY subscription_name',
    );
    return rows.map((r) => ({ name: r.subscription_name, providerNode: r.provider_node, status: r.status }));
  },

  async restartSubscription(client, name) {
    await client.query('SELECT pglogical.alter_subscription_disable($1, true)', [name]);
    await client.query('SELECT pglogical.alter_subscription_enable($1, true)', [name]);
  },

  restoredSubscriptionsOff: 'UPDATE pglogical.subscription SET sub_enabled = false',

  async resetAfterRestore(client) {
    await client.query('DROP EXTENSION IF EXISTS pglogical CASCADE');
    await client.query("SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE 'pgl\\_%'");
    await client.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE plugin = 'pglogical_output' AND NOT active");
  },

  async addExistingTables(client) {
    const { rowCount } = await client.query(`SELECT pgcp.add_to_set(t.oid) FROM (${userTablesQuery}) t`);
    return rowCount ?? 0;
  },

  async version(client) {
    const { rows } = await client.query<{ v: string }>('SELECT pglogical.pglogical_version() AS v');
    return rows[0]?.v ?? '';
  },

  async readOnly(client) {
    const { rows } = await client.query<{ ro: string }>("SELECT current_setting('default_transaction_read_only') AS ro");
    return rows[0]?.ro === 'on' ? 'on' : 'off';
  },
};
