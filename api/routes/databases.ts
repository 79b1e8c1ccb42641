import { createRoute, z } from '@hono/zod-openapi';
import { listDatabases, type DatabaseRecord } from '../../store/databases.js';
import { createDatabaseCommand, deleteDatabaseCommand, updateDatabaseCommand, type CommandDeps } from '../database-commands.js';
import { requireDatabase } from '../database-guards.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { databaseView } from '../database-view.js';
import { createRouter } from '../router.js';
import { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from '../schemas/database-spec.js';
import { DatabaseIdParams, DatabaseSchema, DatabaseSummarySchema, QueryBool, TaskSchema } from '../schemas/database.js';
import { errorResponses, jsonBody, jsonResponse } from '../schemas/common.js';

const TaskAndDatabase = z.object({ task: TaskSchema, database: DatabaseSchema });
const DryRunPlan = z.object({ plan: z.array(z.string()).openapi({ description: 'The steps the update would run, phase by phase (dry_run: nothing is applied)' }) });

const listRoute = createRoute({
  method: 'get', path: '/v1/databases', operationId: 'list-databases', tags: ['Database'],
  responses: { ...jsonResponse(z.object({ databases: z.array(DatabaseSummarySchema) }), 'Every database'), 409: errorResponses[409] },
});
const createDbRoute = createRoute({
  method: 'post', path: '/v1/databases', operationId: 'create-database', tags: ['Database'],
  request: jsonBody(CreateDatabaseRequestSchema),
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
    ...jsonBody(UpdateDatabaseRequestSchema),
  },
  responses: { ...jsonResponse(z.union([TaskAndDatabase, DryRunPlan]), 'The update task and the database; with dry_run, the plan only'), 400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409] },
});
const deleteRoute = createRoute({
  method: 'delete', path: '/v1/databases/{database_id}', operationId: 'delete-database', tags: ['Database'],
  request: { params: DatabaseIdParams, query: z.object({ force: QueryBool.optional() }) },
  responses: { ...jsonResponse(z.object({ task: TaskSchema }), 'The delete task'), 404: errorResponses[404], 409: errorResponses[409] },
});

export function databaseRoutes(deps: AppDeps) {
  const commands: CommandDeps = { store: deps.store, config: deps.config, temporal: () => requireTemporal(deps) };

  const view = (db: DatabaseRecord, withSpec: boolean) => databaseView(deps, db, withSpec);

  return createRouter()
    .openapi(listRoute, async (c) => {
      const dbs = await listDatabases(deps.store);
      return c.json({ databases: await Promise.all(dbs.map((d) => view(d, false))) }, 200);
    })
    .openapi(createDbRoute, async (c) => {
      const { task, db } = await createDatabaseCommand(commands, c.req.valid('json'));
      return c.json({ task, database: await view(db, true) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const db = await requireDatabase(deps.store, c.req.valid('param').database_id);
      return c.json(await view(db, true), 200);
    })
    .openapi(updateRoute, async (c) => {
      const query = c.req.valid('query');
      const removeHosts = query.remove_host === undefined ? [] : [query.remove_host].flat();
      const r = await updateDatabaseCommand(commands, c.req.valid('param').database_id, c.req.valid('json'), { removeHosts, dryRun: query.dry_run });
      if ('plan' in r) return c.json({ plan: r.plan }, 200);
      return c.json({ task: r.task, database: await view(r.db, true) }, 200);
    })
    .openapi(deleteRoute, async (c) => {
      return c.json(await deleteDatabaseCommand(commands, c.req.valid('param').database_id, c.req.valid('query').force ?? false), 200);
    });
}
