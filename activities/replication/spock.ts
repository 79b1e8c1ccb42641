// Spock 5 (pgEdge images), following Spock's documented functions. Not exercised here: Spock cannot be installed
// on this machine, so the manifest maps every image built here to pglogical.
import { ensureSubscriptionDsn, spockInterfaces } from './interfaces.js';
import type { ReplicationDriver, SubscriptionStatus } from './driver.js';
import { userTablesQuery } from './pglogical-sets.js';
import { spockJoin } from './spock-join.js';

export const spockDriver: ReplicationDriver = {
  name: 'spock',
  join: spockJoin,

  async ensureNode(client, node) {
    await spockJoin.ensureBareNode(client, node);
    // Spock's AutoDDL replicates DDL and adds new tables to the default replication set by itself.
    await client.query("ALTER SYSTEM SET spock.enable_ddl_replication = on");
    await client.query("ALTER SYSTEM SET spock.include_ddl_repset = on");
    await client.query('SELECT pg_reload_conf()');
  },

  async ensureSubscription(client, sub) {
    const { rows } = await client.query<{ enabled: boolean }>('SELECT sub_enabled AS enabled FROM spock.subscription WHERE sub_name = $1', [sub.name]);
    if (rows[0]) {
      if (!rows[0].enabled) await client.query('SELECT spock.sub_enable($1, immediate := true)', [sub.name]);
      await ensureSubscriptionDsn(client, spockInterfaces, sub.name, sub.providerDsn); // the provider's members changed
      return;
    }
    await client.query(
      `SELECT spock.sub_create(subscription_name := $1, provider_dsn := $2, synchronize_structure := false,
         synchronize_data := false, forward_origins := '{}', enabled := true)`,
      [sub.name, sub.providerDsn],
    );
  },

  async dropSubscription(client, name) {
    await client.query('SELECT spock.sub_drop($1, ifexists := true)', [name]);
  },

  async subscriptions(client): Promise<SubscriptionStatus[]> {
    const { rows } = await client.query<{ subscription_name: string; provider_node: string; status: string }>(
      'SELECT subscription_name, provider_node, status FROM spock.sub_show_status() ORDER BY subscription_name',
    );
    return rows.map((r) => ({ name: r.subscription_name, providerNode: r.provider_node, status: r.status }));
  },

  restoredSubscriptionsOff: 'UPDATE spock.subscription SET sub_enabled = false',

  async resetAfterRestore(client) {
    await client.query('DROP EXTENSION IF EXISTS spock CASCADE');
    await client.query("SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE 'spk\\_%'");
    await client.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE plugin = 'spock_output' AND NOT active");
  },

  async addExistingTables(client) {
    // Spock's documented bulk form: every table of each schema into the default set
    const { rows } = await client.query<{ nspname: string }>(`SELECT DISTINCT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid IN (${userTablesQuery})`);
    for (const r of rows) await client.query('SELECT spock.repset_add_all_tables($1, ARRAY[$2])', ['default', r.nspname]);
    return rows.length;
  },

  async restartSubscription(client, name) {
    await client.query('SELECT spock.sub_disable($1, immediate := true)', [name]);
    await client.query('SELECT spock.sub_enable($1, immediate := true)', [name]);
  },

  async version(client) {
    const { rows } = await client.query<{ v: string }>('SELECT spock.spock_version() AS v');
    return rows[0]?.v ?? '';
  },

  async readOnly(client) {
    const { rows } = await client.query<{ ro: string }>("SELECT current_setting('spock.readonly') AS ro");
    return rows[0]?.ro === 'on' ? 'on' : 'off';
  },
};
