// Create, update and delete a database: admission, the store transition and the task start, in one place for both
// callers — the REST routes and the SDK's Temporal trigger (sdk/temporal.ts) — so a program that starts a task
// through Temporal passes the same checks, moves the store the same way and gets the same task (workflow, search
// attributes, UUIDv7 id) as an API client. Throws ApiError, as the routes do.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import { deleteDatabase, getDatabaseLock, getDatabaseSecrets, getJoinedNodes, insertDatabase, lockDatabase, modifiableStates, secretsForNewDatabase, setServicePasswords, unlockDatabase, type DatabaseRecord } from '../store/databases.js';
import { listInstances } from '../store/instances.js';
import { listServiceInstances } from '../store/services.js';
import { databaseNotFound, notModifiable, requireDatabase } from './database-guards.js';
import { startLockedTask } from './database-lock.js';
import { planLines } from '../workflows/model/planner.js';
import { planUpdate } from '../workflows/model/update-planner.js';
import { ApiError } from './errors.js';
import type { z } from '@hono/zod-openapi';
import type { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from './schemas/database-spec.js';
import { admitSpec, hashPasswords, issuesError, mergeUpdate, servicePasswords, type Admission } from './spec-admission.js';
import { startDatabaseTask, startTaskOrRollBack, type Task } from './tasks.js';
import { databaseUpgrades } from './database-view.js';
import { upgradedSpec, upgradeTarget } from '../workflows/model/upgrades.js';

export type CreateDatabaseRequest = z.output<typeof CreateDatabaseRequestSchema>;
export type UpdateDatabaseRequest = z.output<typeof UpdateDatabaseRequestSchema>;

export interface CommandDeps extends Admission { temporal: () => Client }

export { databaseNotFound };

export async function createDatabaseCommand(deps: CommandDeps, req: CreateDatabaseRequest): Promise<{ task: Task; db: DatabaseRecord }> {
  const admitted = await admitSpec(deps, req.spec, { creating: true, databaseId: req.id });
  const services = servicePasswords(admitted);
  if (services.issues.length > 0) throw issuesError(services.issues);
  const spec = hashPasswords(admitted);
  const taskId = uuidv7();
  const id = req.id ?? randomUUID();
  const db = await insertDatabase(deps.store, {
    id, tenantId: req.tenant_id ?? null, spec, state: 'creating',
    secrets: { ...(await secretsForNewDatabase(deps.store, id)), ...(Object.keys(services.passwords).length ? { servicePasswords: services.passwords } : {}) },
    lock: { taskId, type: 'create' },
  });
  if (!db) throw new ApiError('database_already_exists', 'a database already exists with the given ID');
  const task = await startTaskOrRollBack(deps.temporal(), { type: 'create', taskId, input: { databaseId: db.id } }, () => deleteDatabase(deps.store, db.id));
  return { task, db };
}

export interface UpdateOptions { removeHosts?: string[]; dryRun?: boolean }
export type UpdateResult = { plan: string[] } | { task: Task; db: DatabaseRecord };

export async function updateDatabaseCommand(deps: CommandDeps, id: string, req: UpdateDatabaseRequest, o: UpdateOptions = {}): Promise<UpdateResult> {
  const stored = await getDatabaseSecrets(deps.store, id);
  if (!stored) throw databaseNotFound();
  const merged = mergeUpdate(stored.spec, req.spec, id);
  if (merged.issues.length > 0) throw issuesError(merged.issues);
  const admitted = await admitSpec(deps, merged.spec, { creating: false, databaseId: id });
  const services = servicePasswords(admitted, stored.secrets.servicePasswords);
  if (services.issues.length > 0) throw issuesError(services.issues);
  const spec = hashPasswords(admitted, stored.spec);
  const removeHosts = o.removeHosts ?? [];
  if (o.dryRun) {
    const instances = await listInstances(deps.store, id);
    const services = await listServiceInstances(deps.store, id);
    const layout = {
      joined: await getJoinedNodes(deps.store, id), instances: instances.map((i) => ({ instanceId: i.id, hostId: i.hostId, nodeName: i.nodeName })),
      serviceInstances: services.map((s) => ({ serviceId: s.serviceId, hostId: s.hostId })),
    };
    return { plan: planLines(planUpdate(id, layout, spec, removeHosts)) };
  }
  return startLockedTask(deps, {
    task: { type: 'update', input: { databaseId: id, ...(removeHosts.length ? { removeHosts } : {}) } },
    from: modifiableStates, to: 'modifying', spec,
    prepare: () => setServicePasswords(deps.store, id, services.passwords),
  });
}

/**
 * pgEdge §4.6: an in-place image upgrade. The image must be a newer one of the database's major in the version
 * manifest, built on every host of the database; the spec's version becomes its version (node versions equal to the
 * old one follow) and an `upgrade` task rolls every node as an update does: replicas, switchover, old primary. It
 * holds the database's lock, as every mutating task does.
 */
export async function upgradeDatabaseCommand(deps: CommandDeps, id: string, image: string): Promise<{ task: Task; db: DatabaseRecord }> {
  await requireDatabase(deps.store, id);
  const stored = await getDatabaseSecrets(deps.store, id);
  if (!stored) throw databaseNotFound();
  const chosen = upgradeTarget(stored.spec, image, await databaseUpgrades(deps.store, stored.spec));
  if ('error' in chosen) throw new ApiError('invalid_input', chosen.error);
  const spec = await admitSpec(deps, upgradedSpec(stored.spec, chosen.target), { creating: false, databaseId: id });
  return startLockedTask(deps, { task: { type: 'upgrade', input: { databaseId: id } }, from: modifiableStates, to: 'modifying', spec });
}

/**
 * Delete takes the database's lock as every mutating task does. A forced delete takes it over from the task holding
 * it, which its workflow then cancels and waits for before it removes anything (workflows/operations/
 * delete-database.ts): the superseded task's last writes are refused (it no longer holds the lock).
 */
export async function deleteDatabaseCommand(deps: CommandDeps, id: string, force = false): Promise<{ task: Task }> {
  await requireDatabase(deps.store, id);
  if (!force) return { task: (await startLockedTask(deps, { task: { type: 'delete', input: { databaseId: id } }, from: modifiableStates, to: 'deleting' })).task };
  const taskId = uuidv7();
  for (let attempt = 0; attempt < 5; attempt++) {
    const holder = await getDatabaseLock(deps.store, id);
    const taken = await lockDatabase(deps.store, id, { taskId, type: 'delete', from: 'any', to: 'deleting', ...(holder ? { takeOverFrom: holder.taskId } : {}) });
    if (!taken) {
      await requireDatabase(deps.store, id);
      continue; // the lock changed hands meanwhile: read it again
    }
    const input = { databaseId: id, ...(holder ? { supersedes: holder.taskId } : {}) };
    try {
      return { task: await startDatabaseTask(deps.temporal(), { type: 'delete', taskId, input }) };
    } catch (err) {
      await unlockDatabase(deps.store, id, taskId, { state: taken.previous.state });
      throw err;
    }
  }
  throw notModifiable();
}
