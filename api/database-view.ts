// A database as the API shows it: its record, its instances with the state derived from the monitor's last report.
import { listInstances, listInstanceStatuses, type DatabaseRecord } from '../store/databases.js';
import { listHosts } from '../store/hosts.js';
import type { AppDeps } from './deps.js';
import { renderDatabase, renderInstance, renderServiceInstance } from './render/database.js';
import { listServiceInstances } from '../store/services.js';

export async function databaseView(deps: Pick<AppDeps, 'store' | 'now'>, db: DatabaseRecord, withSpec: boolean) {
  const [instances, statuses, hosts, services] = await Promise.all([
    listInstances(deps.store, db.id), listInstanceStatuses(deps.store, db.id), listHosts(deps.store), withSpec ? listServiceInstances(deps.store, db.id) : [],
  ]);
  const address = new Map(hosts.map((h) => [h.id, h.address]));
  const now = deps.now?.() ?? new Date();
  return renderDatabase(db, instances.map((i) => renderInstance(i, statuses.get(i.id), address.get(i.hostId), now)), withSpec, services.map((s) => renderServiceInstance(s, now)));
}
