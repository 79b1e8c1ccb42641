// Create, update and delete a database: admission, the store transition and the task start, in one place for both
// callers — the REST routes and the SDK's Temporal trigger (sdk/temporal.ts) — so a program that starts a task
// through Temporal passes the same checks, moves the store the same way and gets the same task (workflow, search
// attributes, UUIDv7 id) as an API client. Throws ApiError, as the routes do.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  deleteDatabase, getDatabase, getDatabaseSecrets, getJoinedNodes, insertDatabase, listInstances, modifiableStates, transitionDatabase,
  type DatabaseRecord,
} from '../store/databases.js';
import type { Store } from '../store/db.js';
import { planLines } from '../workflows/model/planner.js';
import { planUpdate } from '../workflows/model/update-planner.js';
import { ApiError } from './errors.js';
import type { z } from '@hono/zod-openapi';
import type { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from './schemas/database-spec.js';
import { admitSpec, issuesError, mergeUpdate } from './spec-admission.js';
import { startDatabaseTask, type Task } from './tasks.js';

export type CreateDatabaseRequest = z.output<typeof CreateDatabaseRequestSchema>;
export type UpdateDatabaseRequest = z.output<typeof UpdateDatabaseRequestSchema>;

export interface CommandDeps { store: Store; temporal: () => Client }

const notModifiable = () => new ApiError('database_not_modifiable', 'the target database is not modifiable in its current state');
export const databaseNotFound = () => new ApiError('not_found', 'database not found');

/** Starts the task; if Temporal refuses, the database goes back to where it was, so nothing is left half-done. */
async function start(deps: CommandDeps, db: DatabaseRecord, type: 'create' | 'update' | 'delete', rollback: () => Promise<unknown>, removeHosts?: string[]): Promise<Task> {
  try {
    return await startDatabaseTask(deps.temporal(), { type, input: { databaseId: db.id, ...(removeHosts?.length ? { removeHosts } : {}) } });
  } catch (err) {
    await rollback();
    throw err;
  }
}

export async function createDatabaseCommand(deps: CommandDeps, req: CreateDatabaseRequest): Promise<{ task: Task; db: DatabaseRecord }> {
  const spec = await admitSpec(deps.store, req.spec, true);
  const secret = () => randomBytes(24).toString('base64url');
  const db = await insertDatabase(deps.store, {
    id: req.id ?? randomUUID(), tenantId: req.tenant_id ?? null, spec, state: 'creating',
    secrets: { superuserPassword: secret(), replicationPassword: secret() },
  });
  if (!db) throw new ApiError('database_already_exists', 'a database already exists with the given ID');
  const task = await start(deps, db, 'create', () => deleteDatabase(deps.store, db.id));
  return { task, db };
}

export interface UpdateOptions { removeHosts?: string[]; dryRun?: boolean }
export type UpdateResult = { plan: string[] } | { task: Task; db: DatabaseRecord };

export async function updateDatabaseCommand(deps: CommandDeps, id: string, req: UpdateDatabaseRequest, o: UpdateOptions = {}): Promise<UpdateResult> {
  const stored = await getDatabaseSecrets(deps.store, id);
  if (!stored) throw databaseNotFound();
  const merged = mergeUpdate(stored.spec, req.spec, id);
  if (merged.issues.length > 0) throw issuesError(merged.issues);
  const spec = await admitSpec(deps.store, merged.spec, false);
  const removeHosts = o.removeHosts ?? [];
  if (o.dryRun) {
    const instances = await listInstances(deps.store, id);
    const layout = { joined: await getJoinedNodes(deps.store, id), instances: instances.map((i) => ({ instanceId: i.id, hostId: i.hostId, nodeName: i.nodeName })) };
    return { plan: planLines(planUpdate(id, layout, spec, removeHosts)) };
  }
  const before = await getDatabase(deps.store, id);
  const db = await transitionDatabase(deps.store, id, modifiableStates, 'modifying', spec);
  if (!db || !before) throw notModifiable();
  const task = await start(deps, db, 'update', () => transitionDatabase(deps.store, id, 'any', before.state, before.spec), removeHosts);
  return { task, db };
}

export async function deleteDatabaseCommand(deps: CommandDeps, id: string, force = false): Promise<{ task: Task }> {
  const before = await getDatabase(deps.store, id);
  if (!before) throw databaseNotFound();
  const db = await transitionDatabase(deps.store, id, force ? 'any' : modifiableStates, 'deleting');
  if (!db) throw notModifiable();
  return { task: await start(deps, db, 'delete', () => transitionDatabase(deps.store, id, 'any', before.state)) };
}
