// Which logical slots on a provider serve which subscriber node: by the slot name each subscription records in its
// own catalog, asked of the subscriber. pglogical and Spock build a slot's name from the database, provider and
// subscription names, each shortened with a hash past 16 characters, so a slot of a long node name does not end
// with its subscription's name: nothing here matches names by their ending.
import type { HostDeps } from '../deps.js';
import type { DatabaseContext } from '../database-context.js';
import { withClient } from '../postgres/connect.js';
import { driverOfNode, findPrimary, findPrimaryByPostgres } from '../postgres/node-database.js';
import { ids } from '../../workflows/model/ids.js';

export interface RecordedSlots {
  /** subscriber node → the slot its subscription to the provider reads (absent: it has no such subscription). */
  slots: Record<string, string>;
  /** Subscribers whose primary could not be asked: what they read is unknown. */
  unanswered: string[];
}

type Db = Pick<DatabaseContext, 'databaseId' | 'spec' | 'secrets' | 'instances'>;

/** Each subscriber's recorded slot on `provider`, asked once of its current primary (no waiting: the monitor calls it too). */
export async function recordedSlots(
  deps: Pick<HostDeps, 'docker' | 'store' | 'hostId'>, db: Db, provider: string, subscribers: string[],
  o: { instanceIds?: Record<string, string[]> } = {},
): Promise<RecordedSlots> {
  const out: RecordedSlots = { slots: {}, unanswered: [] };
  await Promise.all(subscribers.map(async (m) => {
    try {
      const primary = await findPrimary(deps, db, m, o.instanceIds?.[m]) ?? await findPrimaryByPostgres(deps, db, m, o.instanceIds?.[m]);
      if (!primary) { out.unanswered.push(m); return; }
      const name = ids.subscription(m, provider);
      const subs = await withClient(primary.address, db.secrets, db.spec.database_name, (c) => driverOfNode(db, m).subscriptions(c));
      const slot = subs.find((s) => s.name === name)?.slot;
      if (slot) out.slots[m] = slot;
    } catch {
      out.unanswered.push(m); // not running, or its database not made yet
    }
  }));
  out.unanswered.sort();
  return out;
}
