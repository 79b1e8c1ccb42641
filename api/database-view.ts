// A database as the API shows it: its record, its instances with the state derived from the monitor's last report.
import { type DatabaseRecord } from '../store/databases.js';
import { listInstances, listInstanceStatuses } from '../store/instances.js';
import { listHosts, listHostStatuses } from '../store/hosts.js';
import type { Store } from '../store/db.js';
import { availableUpgrades, type ImageVersion } from '../workflows/model/upgrades.js';
import type { DatabaseSpec } from './schemas/database-spec.js';
import type { AppDeps } from './deps.js';
import { renderDatabase, renderInstance, renderServiceInstance } from './render/database.js';
import { listServiceInstances } from '../store/services.js';

export async function databaseView(deps: Pick<AppDeps, 'store' | 'now'>, db: DatabaseRecord, withSpec: boolean, withUpgrades = false) {
  const [instances, statuses, hosts, services] = await Promise.all([
    listInstances(deps.store, db.id), listInstanceStatuses(deps.store, db.id), listHosts(deps.store), withSpec ? listServiceInstances(deps.store, db.id) : [],
  ]);
  const address = new Map(hosts.map((h) => [h.id, h.address]));
  const now = deps.now?.() ?? new Date();
  const out = renderDatabase(db, instances.map((i) => renderInstance(i, statuses.get(i.id), address.get(i.hostId), now)), withSpec, services.map((s) => renderServiceInstance(s, now)));
  if (!withUpgrades) return out;
  const upgrades = await databaseUpgrades(deps.store, db.spec);
  return upgrades.length > 0 ? { ...out, available_upgrades: upgrades } : out;
}

/** What the hosts of the database report built (their heartbeats), of the same major and newer than its version. */
export async function databaseUpgrades(store: Store, spec: DatabaseSpec): Promise<ImageVersion[]> {
  const statuses = await listHostStatuses(store);
  const byHost = new Map([...statuses].map(([h, s]) => [h, (s.details.supportedVersions ?? []).filter((v): v is ImageVersion => !!v.image)]));
  return availableUpgrades(spec, byHost);
}

/** `?include=available_upgrades` (repeatable, or comma-separated); other values are ignored, as the reference does. */
export function includesUpgrades(include: string | string[] | undefined): boolean {
  return [include ?? []].flat().flatMap((v) => v.split(',')).some((v) => v.trim() === 'available_upgrades');
}
