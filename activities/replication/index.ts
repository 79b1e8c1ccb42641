// One replication driver per replication layer, made from its catalog of names; callers pick one by name.
import type { ReplicationDriverName } from '../docker/images.js';
import { pglogicalCatalog, spockCatalog } from './catalogs.js';
import { createDriver } from './create-driver.js';
import type { ReplicationDriver } from './driver.js';

const drivers: Record<ReplicationDriverName, ReplicationDriver> = {
  pglogical: createDriver(pglogicalCatalog),
  spock: createDriver(spockCatalog),
};

export function driverFor(name: ReplicationDriverName): ReplicationDriver {
  return name === 'spock' ? drivers.spock : drivers.pglogical;
}
