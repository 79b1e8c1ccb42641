// The names by which pglogical 2 and Spock 5 expose the same replication layer, and the few places they really
// differ. create-driver.ts and create-join.ts hold every algorithm once and read names from here, so the Spock path
// (never run on this machine: the images built here carry pglogical) is the code the pglogical tests run.
// Both share catalog tables (node, node_interface, subscription, local_sync_status), function parameter names
// (subscription_name, provider_dsn, replication_sets, synchronize_*, forward_origins, immediate, ifexists), slot and
// origin names (<prefix>_<db>_<provider>_<subscription>) and the replication sets default/default_insert_only/ddl_sql.
import type pg from 'pg';
import type { InterfaceCatalog } from './interfaces.js';
import { autoDdlSql } from './pglogical-autoddl.js';
import { userTablesQuery } from './sets.js';

export interface ReplicationCatalog extends InterfaceCatalog {
  /** The driver's name; also its extension's and schema's. */
  readonly name: 'pglogical' | 'spock';
  readonly outputPlugin: 'pglogical_output' | 'spock_output';
  /** First part of the names of the slots (and of the subscribers' origins) the layer makes. */
  readonly slotPrefix: 'pgl' | 'spk';
  /** Functions, schema-qualified: (node_name, dsn), (node_name, ifexists). */
  readonly createNode: string;
  readonly dropNode: string;
  /** (subscription_name, provider_dsn, replication_sets, synchronize_structure, synchronize_data, forward_origins). */
  readonly createSubscription: string;
  /** Spock's create takes `enabled`; pglogical's does not, so a subscription made stopped is disabled just after. */
  readonly createTakesEnabled: boolean;
  /** (subscription_name, ifexists), (subscription_name, immediate) ×2, ([subscription_name]) → status rows. */
  readonly dropSubscription: string;
  readonly enableSubscription: string;
  readonly disableSubscription: string;
  readonly subscriptionStatus: string;
  readonly versionFunction: string;
  /** The setting that reads 'off' while the node takes writes. */
  readonly readOnlySetting: string;
  /** The conflict-resolution setting accepting 'apply_remote', null where there is none. */
  readonly catchUpSetting: string | null;
  /** A tiny replicated commit that subscribers apply (their applied position moves past it). */
  readonly heartbeat: string;
  /** Adds every user table not yet in a replication set (default with a primary key, default_insert_only without). */
  readonly addExistingTables: string;
  /** Automatic DDL replication on this node (idempotent). */
  enableAutoDdl(client: pg.ClientBase): Promise<void>;
}

export const pglogicalCatalog: ReplicationCatalog = {
  name: 'pglogical',
  schema: 'pglogical',
  outputPlugin: 'pglogical_output',
  slotPrefix: 'pgl',
  createNode: 'pglogical.create_node',
  dropNode: 'pglogical.drop_node',
  addInterface: 'pglogical.alter_node_add_interface',
  switchInterface: 'pglogical.alter_subscription_interface',
  createSubscription: 'pglogical.create_subscription',
  createTakesEnabled: false,
  dropSubscription: 'pglogical.drop_subscription',
  enableSubscription: 'pglogical.alter_subscription_enable',
  disableSubscription: 'pglogical.alter_subscription_disable',
  subscriptionStatus: 'pglogical.show_subscription_status',
  versionFunction: 'pglogical.pglogical_version',
  readOnlySetting: 'default_transaction_read_only',
  catchUpSetting: 'pglogical.conflict_resolution',
  // pglogical has no sync event: a queued SQL message (type 'Q') on ddl_sql, which subscribers run as `SELECT 1`.
  heartbeat: `INSERT INTO pglogical.queue (queued_at, role, replication_sets, message_type, message)
       VALUES (now(), current_user, ARRAY['ddl_sql'], 'Q', to_json('SELECT 1'::text))`,
  // pgcp.add_to_set (made by the AutoDDL stand-in) skips tables already in a set and picks the set by primary key.
  addExistingTables: `SELECT pgcp.add_to_set(t.oid) FROM (${userTablesQuery}) t`,
  async enableAutoDdl(client) {
    await client.query(autoDdlSql); // pglogical has no AutoDDL: an event trigger stands in (pglogical-autoddl.ts)
  },
};

export const spockCatalog: ReplicationCatalog = {
  name: 'spock',
  schema: 'spock',
  outputPlugin: 'spock_output',
  slotPrefix: 'spk',
  createNode: 'spock.node_create',
  dropNode: 'spock.node_drop',
  addInterface: 'spock.node_add_interface',
  switchInterface: 'spock.sub_alter_interface',
  createSubscription: 'spock.sub_create',
  createTakesEnabled: true,
  dropSubscription: 'spock.sub_drop',
  enableSubscription: 'spock.sub_enable',
  disableSubscription: 'spock.sub_disable',
  subscriptionStatus: 'spock.sub_show_status',
  versionFunction: 'spock.spock_version',
  readOnlySetting: 'spock.readonly', // off | user | all
  // Spock 4+ accepts only last_update_wins (apply_remote is compiled out of spock.conflict_resolution's values).
  catchUpSetting: null,
  heartbeat: 'SELECT spock.sync_event()',
  // repset_add_all_tables would put every table into one set and fails on a table without a primary key.
  addExistingTables: `SELECT spock.repset_add_table(
       CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indisprimary) THEN 'default' ELSE 'default_insert_only' END,
       t.oid::regclass)
     FROM (${userTablesQuery}) t WHERE NOT EXISTS (SELECT 1 FROM spock.replication_set_table s WHERE s.set_reloid = t.oid)`,
  async enableAutoDdl(client) {
    // Spock's AutoDDL replicates DDL and adds new tables to the default replication sets by itself.
    await client.query('ALTER SYSTEM SET spock.enable_ddl_replication = on');
    await client.query('ALTER SYSTEM SET spock.include_ddl_repset = on');
    await client.query('SELECT pg_reload_conf()');
  },
};
