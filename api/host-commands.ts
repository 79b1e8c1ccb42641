// DELETE /v1/hosts/{host_id}: the reference's checks in its order (not this server's own host; the host exists;
// without force, no database has instances there), then every database that has the host in a node's host_ids gets
// its spec without it (workflows/model/host-removal.ts) and state modifying, and a remove_host host task starts with
// one update child task per database. Refusals come before anything changes; a database that cannot change now
// refuses the whole removal (409), and a start that fails puts every database back as it was.
import type { Client } from '@temporalio/client';
import { listDatabases, listInstancesOnHost, modifiableStates, transitionDatabase, type DatabaseRecord } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { getHost } from '../store/hosts.js';
import { specWithoutHost } from '../workflows/model/host-removal.js';
import { transitionOrRefuse } from './database-guards.js';
import { ApiError } from './errors.js';
import { startRemoveHostTask, type Task } from './tasks.js';

export interface HostCommandDeps { store: Store; temporal: () => Client; selfHostId: string }

/** hostGone: its agent is silent (its heartbeat stale or its engine down): nothing will be asked of it. */
export async function removeHostCommand(deps: HostCommandDeps, hostId: string, force: boolean, hostGone: boolean): Promise<{ task: Task; update_database_tasks: Task[] }> {
  if (hostId === deps.selfHostId) throw new ApiError('invalid_input', 'a host cannot remove itself from the cluster');
  if (!(await getHost(deps.store, hostId))) throw new ApiError('not_found', 'no host found with the given ID');
  const [databases, instances] = await Promise.all([listDatabases(deps.store), listInstancesOnHost(deps.store, hostId)]);
  const affected = databases
    .map((db) => ({ db, change: specWithoutHost(db.spec, hostId) }))
    .filter(({ db, change }) => change.changed || instances.some((i) => i.databaseId === db.id));
  if (affected.length > 0 && !force) throw new ApiError('invalid_input', 'cannot remove host with running instances');
  for (const { db, change } of affected) {
    if (!modifiableStates.includes(db.state)) throw new ApiError('database_not_modifiable', `database ${db.id}: the target database is not modifiable in its current state`);
    if (change.spec.nodes.length === 0) throw new ApiError('invalid_input', `database ${db.id} has no node on another host: delete the database instead`);
  }
  const moved: DatabaseRecord[] = [];
  try {
    for (const { db, change } of affected) {
      await transitionOrRefuse(deps.store, db.id, modifiableStates, 'modifying', change.spec);
      moved.push(db);
    }
    const { task, updates } = await startRemoveHostTask(deps.temporal(), hostId, hostGone, affected.map(({ db }) => db.id));
    return { task, update_database_tasks: updates };
  } catch (err) {
    for (const db of moved) await transitionDatabase(deps.store, db.id, 'any', db.state, db.spec);
    throw err;
  }
}
