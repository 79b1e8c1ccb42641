// The replication driver (ReplicationDriver in driver.ts), once for pglogical and Spock: every algorithm reads
// the layer's names from its catalog (catalogs.ts). index.ts makes one driver per catalog.
import type { ReplicationCatalog } from './catalogs.js';
import { createJoin } from './create-join.js';
import type { ReplicationDriver, SubscriptionStatus } from './driver.js';
import { ensureSubscriptionDsn } from './interfaces.js';
import { createSubscription, setSubscriptionEnabled } from './subscriptions.js';

export function createDriver(cat: ReplicationCatalog): ReplicationDriver {
  const s = cat.schema;
  const join = createJoin(cat);
  return {
    name: cat.name,
    join,

    async ensureNode(client, node) {
      await join.ensureBareNode(client, node);
      await cat.enableAutoDdl(client);
    },

    async ensureSubscription(client, sub) {
      const { rows } = await client.query<{ enabled: boolean }>(`SELECT sub_enabled AS enabled FROM ${s}.subscription WHERE sub_name = $1`, [sub.name]);
      if (rows[0]) {
        // Converged means running: a subscription left disabled (a join stopped mid-way) is enabled again.
        if (!rows[0].enabled) await setSubscriptionEnabled(client, cat, sub.name, true);
        await ensureSubscriptionDsn(client, cat, sub.name, sub.providerDsn); // the provider's members changed
        return;
      }
      await createSubscription(client, cat, sub, { copy: false, enabled: true });
    },

    async dropSubscription(client, name) {
      await client.query(`SELECT ${cat.dropSubscription}($1, ifexists := true)`, [name]);
    },

    async subscriptions(client): Promise<SubscriptionStatus[]> {
      const { rows } = await client.query<{ subscription_name: string; provider_node: string; status: string; slot_name: string }>(
        `SELECT subscription_name, provider_node, status, slot_name FROM ${cat.subscriptionStatus}() ORDER BY subscription_name`,
      );
      return rows.map((r) => ({ name: r.subscription_name, providerNode: r.provider_node, status: r.status, slot: r.slot_name }));
    },

    async restartSubscription(client, name) {
      await setSubscriptionEnabled(client, cat, name, false);
      await setSubscriptionEnabled(client, cat, name, true);
    },

    restoredSubscriptionsOff: `UPDATE ${s}.subscription SET sub_enabled = false`,

    async resetAfterRestore(client) {
      await client.query(`DROP EXTENSION IF EXISTS ${cat.name} CASCADE`);
      await client.query(`SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE '${cat.slotPrefix}\\_%'`);
      await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE plugin = '${cat.outputPlugin}' AND NOT active`);
    },

    async addExistingTables(client) {
      const { rowCount } = await client.query(cat.addExistingTables);
      return rowCount ?? 0;
    },

    async version(client) {
      const { rows } = await client.query<{ v: string }>(`SELECT ${cat.versionFunction}() AS v`);
      return rows[0]?.v ?? '';
    },

    async readOnly(client) {
      const { rows } = await client.query<{ ro: string }>(`SELECT current_setting('${cat.readOnlySetting}') AS ro`);
      const ro = rows[0]?.ro;
      return ro !== undefined && ro !== 'off' ? 'on' : 'off'; // spock.readonly is off, user or all
    },
  };
}
