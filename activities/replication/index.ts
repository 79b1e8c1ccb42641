import type { ReplicationDriverName } from '../docker/images.js';
import type { ReplicationDriver } from './driver.js';
import { pglogicalDriver } from './pglogical.js';
import { spockDriver } from './spock.js';

export function driverFor(name: ReplicationDriverName): ReplicationDriver {
  return name === 'spock' ? spockDriver : pglogicalDriver;
}
