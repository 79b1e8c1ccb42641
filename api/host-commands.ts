// DELETE /v1/hosts/{host_id}: the reference's checks in its order (not this server's own host; the host exists;
// without force, no database has instances there), then every database that has the host in a node's host_ids gets
// its spec without it (workflows/model/host-removal.ts) and state modifying, and a remove_host host task starts with
// one update child task per database. Refusals come before anything changes; a database that cannot change now
// refuses the whole removal (409), and a start that fails puts every database back as it was.
import { listServiceInstancesOnHost } from '../store/services.js';
import type { Client } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import { listDatabases, modifiableStates, unlockDatabase, type DatabaseState } from '../store/databases.js';
import { listInstancesOnHost } from '../store/instances.js';
import type { DatabaseSpec } from './schemas/database-spec.js';
import type { Store } from '../store/db.js';
import { getHost } from '../store/hosts.js';
import { specWithoutHost } from '../workflows/model/host-removal.js';
import { lockOrRefuse } from './database-lock.js';
import { ApiError } from './errors.js';
import { startRemoveHostTask, type Task } from './tasks.js';

const notModifiableHere = (id: string) => () => new ApiError('database_not_modifiable', `database ${id}: the target database is not modifiable in its current state`);

export interface HostCommandDeps { store: Store; temporal: () => Client; selfHostId: string }

/** hostGone: its agent is silent (its heartbeat stale or its engine down): nothing will be asked of it. */
export async function removeHostCommand(deps: HostCommandDeps, hostId: string, force: boolean, hostGone: boolean): Promise<{ task: Task; update_database_tasks: Task[] }> {
  if (hostId === deps.selfHostId) throw new ApiError('invalid_input', 'a host cannot remove itself from the cluster');
  if (!(await getHost(deps.store, hostId))) throw new ApiError('not_found', 'no host found with the given ID');
  const [databases, instances, services] = await Promise.all([listDatabases(deps.store), listInstancesOnHost(deps.store, hostId), listServiceInstancesOnHost(deps.store, hostId)]);
  const affected = databases
    .map((db) => ({ db, change: specWithoutHost(db.spec, hostId) }))
    .filter(({ db, change }) => change.changed || [...instances, ...services].some((i) => i.databaseId === db.id));
  if (affected.length > 0 && !force) throw new ApiError('invalid_input', 'cannot remove host with running instances');
  for (const { db, change } of affected) {
    if (!modifiableStates.includes(db.state)) throw notModifiableHere(db.id)();
    if (change.spec.nodes.length === 0) throw new ApiError('invalid_input', `database ${db.id} has no node on another host: delete the database instead`);
  }
  // Each database's update child task holds that database's lock from here (its task id made now).
  const moved: { id: string; taskId: string; previous: { state: DatabaseState; spec: DatabaseSpec } }[] = [];
  try {
    for (const { db, change } of affected) {
      const taskId = uuidv7();
      const { previous } = await lockOrRefuse(deps, db.id, { taskId, type: 'update', from: modifiableStates, to: 'modifying', spec: change.spec }, notModifiableHere(db.id));
      moved.push({ id: db.id, taskId, previous });
    }
    const { task, updates } = await startRemoveHostTask(deps.temporal(), hostId, hostGone, moved.map((m) => ({ databaseId: m.id, taskId: m.taskId })));
    return { task, update_database_tasks: updates };
  } catch (err) {
    for (const m of moved) await unlockDatabase(deps.store, m.id, m.taskId, m.previous);
    throw err;
  }
}
