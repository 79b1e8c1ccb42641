// Statements on one subscription, written once for pglogical and Spock (their names come from the catalog):
// its catalog row, its creation, turning it on or off.
import type pg from 'pg';
import type { ReplicationCatalog } from './catalogs.js';
import { replicationSets } from './sets.js';

export interface SubscriptionRow { id: number; slot: string; enabled: boolean }

export async function subscriptionRow(client: pg.ClientBase, cat: ReplicationCatalog, name: string): Promise<SubscriptionRow | null> {
  const { rows } = await client.query<SubscriptionRow>(
    `SELECT sub_id AS id, sub_slot_name AS slot, sub_enabled AS enabled FROM ${cat.schema}.subscription WHERE sub_name = $1`,
    [name],
  );
  return rows[0] ?? null;
}

export async function requireSubscription(client: pg.ClientBase, cat: ReplicationCatalog, name: string): Promise<SubscriptionRow> {
  const row = await subscriptionRow(client, cat, name);
  if (!row) throw new Error(`subscription ${name} does not exist`);
  return row;
}

/**
 * A subscription to every change the provider originates (forward_origins = {}), in every replication set.
 * `copy`: the provider's structure and data are copied first. `enabled: false` is honoured only where the create
 * function takes it (catalog.createTakesEnabled); elsewhere the caller disables it in the same transaction.
 */
export async function createSubscription(
  client: pg.ClientBase, cat: ReplicationCatalog, sub: { name: string; providerDsn: string }, opts: { copy: boolean; enabled: boolean },
): Promise<void> {
  const enabled = cat.createTakesEnabled ? `, enabled := ${opts.enabled}` : '';
  await client.query(
    `SELECT ${cat.createSubscription}(subscription_name := $1, provider_dsn := $2, replication_sets := $3,
       synchronize_structure := ${opts.copy}, synchronize_data := ${opts.copy}, forward_origins := '{}'${enabled})`,
    [sub.name, sub.providerDsn, replicationSets],
  );
}

/** `immediate`: now rather than at the end of the transaction. */
export async function setSubscriptionEnabled(client: pg.ClientBase, cat: ReplicationCatalog, name: string, enabled: boolean, immediate = true): Promise<void> {
  await client.query(`SELECT ${enabled ? cat.enableSubscription : cat.disableSubscription}($1, immediate := ${immediate})`, [name]);
}
