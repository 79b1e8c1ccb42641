// Every activity, grouped by the queue that runs it: control-plane activities (store, etcd) on `control-plane`,
// host activities (this host's Docker engine and the instances on it) on `host.<id>`. Both groups throw only what
// withActivityErrors lets out: classified (retryable or permanent) and without secrets.
import type { ControlPlaneDeps, HostDeps } from './deps.js';
import { backupActivities } from './backup/backups.js';
import { restoreActivities } from './backup/restore.js';
import { scheduleActivities } from './control-plane/backup-schedules.js';
import { instanceActivities } from './docker/instances.js';
import { verifyImageActivities } from './docker/verify-image.js';
import { applyConfigActivities } from './patroni/apply-config.js';
import { haActivities } from './patroni/ha.js';
import { nodeDatabaseActivities } from './postgres/node-database.js';
import { nodeJoinActivities } from './postgres/node-join.js';
import { storeActivities } from './control-plane/store-records.js';
import { withActivityErrors } from './errors.js';
import { serviceInstanceActivities } from './services/service-instances.js';
import { postgrestActivities } from './services/postgrest.js';
import { ragActivities } from './services/rag.js';

export function createHostActivities(deps: HostDeps) {
  return withActivityErrors({
    ...verifyImageActivities(deps.docker, deps.hostId),
    ...instanceActivities(deps),
    ...nodeDatabaseActivities(deps),
    ...nodeJoinActivities(deps),
    ...applyConfigActivities(deps),
    ...haActivities(deps),
    ...backupActivities(deps),
    ...restoreActivities(deps),
    ...serviceInstanceActivities(deps),
    ...postgrestActivities(deps),
    ...ragActivities(deps),
  });
}

export function createControlPlaneActivities(deps: ControlPlaneDeps) {
  return withActivityErrors({ ...storeActivities(deps), ...scheduleActivities(deps) });
}

export type HostActivities = ReturnType<typeof createHostActivities>;
export type ControlPlaneActivities = ReturnType<typeof createControlPlaneActivities>;
