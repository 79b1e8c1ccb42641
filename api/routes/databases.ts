import { randomBytes, randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  deleteDatabase, getDatabase, getJoinedNodes, insertDatabase, listDatabases, listInstances, modifiableStates, transitionDatabase, getDatabaseSecrets,
  type DatabaseRecord,
} from '../../store/databases.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { databaseView } from '../database-view.js';
import { createRouter } from '../router.js';
import { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from '../schemas/database-spec.js';
import { DatabaseIdParams, DatabaseSchema, DatabaseSummarySchema, QueryBool, TaskSchema } from '../schemas/database.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import { admitSpec, issuesError, mergeUpdate } from '../spec-admission.js';
import { startDatabaseTask, type Task } from '../tasks.js';
import { planLines } from '../../workflows/model/planner.js';
import { planUpdate } from '../../workflows/model/update-planner.js';

const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const TaskAndDatabase = z.object({ task: TaskSchema, database: DatabaseSchema });
const DryRunPlan = z.object({ plan: z.array(z.string()).openapi({ description: 'The steps the update would run, phase by phase (dry_run: nothing is applied)' }) });
const notModifiable = () => new ApiError('database_not_modifiable', 'the target database is not modifiable in its current state');
const notFound = () => new ApiError('not_found', 'database not found');

const listRoute = createRoute({
  method: 'get', path: '/v1/databases', operationId: 'list-databases', tags: ['Database'],
  responses: { ...jsonResponse(z.object({ databases: z.array(DatabaseSummarySchema) }), 'Every database'), 409: errorResponses[409] },
});
const createDbRoute = createRoute({
  method: 'post', path: '/v1/databases', operationId: 'create-database', tags: ['Database'],
  request: body(CreateDatabaseRequestSchema),
  responses: { ...jsonResponse(TaskAndDatabase, 'The create task and the database'), 400: errorResponses[400], 409: errorResponses[409] },
});
const getRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}', operationId: 'get-database', tags: ['Database'],
  request: { params: DatabaseIdParams },
  responses: { ...jsonResponse(DatabaseSchema, 'The database'), 404: errorResponses[404] },
});
const updateRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}', operationId: 'update-database', tags: ['Database'],
  request: {
    params: DatabaseIdParams,
    query: z.object({
      force_update: QueryBool.optional().openapi({ description: 'Accepted; every update re-applies every step (each checks before it acts)' }),
      remove_host: z.union([z.string(), z.array(z.string())]).optional().openapi({ description: 'Hosts to treat as gone: nothing is run on them (repeatable)' }),
      dry_run: QueryBool.optional().openapi({ description: 'Return the plan without applying it (extension)' }),
    }),
    ...body(UpdateDatabaseRequestSchema),
  },
  responses: { ...jsonResponse(z.union([TaskAndDatabase, DryRunPlan]), 'The update task and the database; with dry_run, the plan only'), 400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409] },
});
const deleteRoute = createRoute({
  method: 'delete', path: '/v1/databases/{database_id}', operationId: 'delete-database', tags: ['Database'],
  request: { params: DatabaseIdParams, query: z.object({ force: QueryBool.optional() }) },
  responses: { ...jsonResponse(z.object({ task: TaskSchema }), 'The delete task'), 404: errorResponses[404], 409: errorResponses[409] },
});

export function databaseRoutes(deps: AppDeps) {
  const temporal = () => requireTemporal(deps);

  const view = (db: DatabaseRecord, withSpec: boolean) => databaseView(deps, db, withSpec);

  /** Starts the task; if Temporal refuses, the database goes back to where it was, so nothing is left half-done. */
  async function start(db: DatabaseRecord, type: 'create' | 'update' | 'delete', rollback: () => Promise<unknown>, removeHosts?: string[]): Promise<Task> {
    try {
      return await startDatabaseTask(temporal(), { type, input: { databaseId: db.id, ...(removeHosts?.length ? { removeHosts } : {}) } });
    } catch (err) {
      await rollback();
      throw err;
    }
  }

  return createRouter()
    .openapi(listRoute, async (c) => {
      const dbs = await listDatabases(deps.store);
      return c.json({ databases: await Promise.all(dbs.map((d) => view(d, false))) }, 200);
    })
    .openapi(createDbRoute, async (c) => {
      const req = c.req.valid('json');
      const spec = await admitSpec(deps, req.spec, { creating: true, databaseId: req.id });
      const secret = () => randomBytes(24).toString('base64url');
      const db = await insertDatabase(deps.store, {
        id: req.id ?? randomUUID(), tenantId: req.tenant_id ?? null, spec, state: 'creating',
        secrets: { superuserPassword: secret(), replicationPassword: secret() },
      });
      if (!db) throw new ApiError('database_already_exists', 'a database already exists with the given ID');
      const task = await start(db, 'create', () => deleteDatabase(deps.store, db.id));
      return c.json({ task, database: await view(db, true) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const db = await getDatabase(deps.store, c.req.valid('param').database_id);
      if (!db) throw notFound();
      return c.json(await view(db, true), 200);
    })
    .openapi(updateRoute, async (c) => {
      const id = c.req.valid('param').database_id;
      const req = c.req.valid('json');
      const stored = await getDatabaseSecrets(deps.store, id);
      if (!stored) throw notFound();
      const merged = mergeUpdate(stored.spec, req.spec, id);
      if (merged.issues.length > 0) throw issuesError(merged.issues);
      const spec = await admitSpec(deps, merged.spec, { creating: false, databaseId: id });
      const query = c.req.valid('query');
      const removeHosts = query.remove_host === undefined ? [] : [query.remove_host].flat();
      if (query.dry_run) {
        const instances = await listInstances(deps.store, id);
        const layout = { joined: await getJoinedNodes(deps.store, id), instances: instances.map((i) => ({ instanceId: i.id, hostId: i.hostId, nodeName: i.nodeName })) };
        return c.json({ plan: planLines(planUpdate(id, layout, spec, removeHosts)) }, 200);
      }
      const before = await getDatabase(deps.store, id);
      const db = await transitionDatabase(deps.store, id, modifiableStates, 'modifying', spec);
      if (!db || !before) throw notModifiable();
      const task = await start(db, 'update', () => transitionDatabase(deps.store, id, 'any', before.state, before.spec), removeHosts);
      return c.json({ task, database: await view(db, true) }, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const id = c.req.valid('param').database_id;
      const force = c.req.valid('query').force ?? false;
      const before = await getDatabase(deps.store, id);
      if (!before) throw notFound();
      const db = await transitionDatabase(deps.store, id, force ? 'any' : modifiableStates, 'deleting');
      if (!db) throw notModifiable();
      const task = await start(db, 'delete', () => transitionDatabase(deps.store, id, 'any', before.state));
      return c.json({ task }, 200);
    });
}
