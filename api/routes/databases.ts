import { createRoute, z } from '@hono/zod-openapi';
import { listDatabases, type DatabaseRecord } from '../../store/databases.js';
import { createDatabaseCommand, deleteDatabaseCommand, updateDatabaseCommand, upgradeDatabaseCommand, type CommandDeps } from '../database-commands.js';
import { requireDatabase } from '../database-guards.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { databaseView, includesUpgrades } from '../database-view.js';
import { createRouter } from '../router.js';
import { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from '../schemas/database-spec.js';
import { DatabaseIdParams, DatabaseSchema, DatabaseSummarySchema, IncludeQuery, QueryBool, TaskSchema, UpgradeDatabaseRequestSchema } from '../schemas/database.js';
import { errorResponses, jsonBody, jsonResponse } from '../schemas/common.js';

const TaskAndDatabase = z.object({ task: TaskSchema, database: DatabaseSchema });
const DryRunPlan = z.object({ plan: z.array(z.string()).openapi({ description: 'The steps the update would run, phase by phase (dry_run: nothing is applied)' }) });

const listRoute = createRoute({
  method: 'get', path: '/v1/databases', operationId: 'list-databases', tags: ['Database'],
  request: { query: IncludeQuery },
  responses: { ...jsonResponse(z.object({ databases: z.array(DatabaseSummarySchema) }), 'Every database'), 409: errorResponses[409] },
});
const createDbRoute = createRoute({
  method: 'post', path: '/v1/databases', operationId: 'create-database', tags: ['Database'],
  request: jsonBody(CreateDatabaseRequestSchema),
  responses: { ...jsonResponse(TaskAndDatabase, 'The create task and the database'), 400: errorResponses[400], 409: errorResponses[409] },
});
const getRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}', operationId: 'get-database', tags: ['Database'],
  request: { params: DatabaseIdParams, query: IncludeQuery },
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
const upgradeRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/upgrade', operationId: 'upgrade-database', tags: ['Database'],
  summary: 'Upgrade a database in place to a newer image of its Postgres major',
  request: { params: DatabaseIdParams, ...jsonBody(UpgradeDatabaseRequestSchema) },
  responses: { ...jsonResponse(TaskAndDatabase, 'The upgrade task and the database'), 400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409] },
});
const deleteRoute = createRoute({
  method: 'delete', path: '/v1/databases/{database_id}', operationId: 'delete-database', tags: ['Database'],
  request: { params: DatabaseIdParams, query: z.object({ force: QueryBool.optional() }) },
  responses: { ...jsonResponse(z.object({ task: TaskSchema }), 'The delete task'), 404: errorResponses[404], 409: errorResponses[409] },
});

export function databaseRoutes(deps: AppDeps) {
  const commands: CommandDeps = { store: deps.store, config: deps.config, temporal: () => requireTemporal(deps) };

  const view = (db: DatabaseRecord, withSpec: boolean, withUpgrades = false) => databaseView(deps, db, withSpec, withUpgrades);

  return createRouter()
    .openapi(listRoute, async (c) => {
      const dbs = await listDatabases(deps.store);
      const upgrades = includesUpgrades(c.req.valid('query').include);
      return c.json({ databases: await Promise.all(dbs.map((d) => view(d, false, upgrades))) }, 200);
    })
    .openapi(createDbRoute, async (c) => {
      const { task, db } = await createDatabaseCommand(commands, c.req.valid('json'));
      return c.json({ task, database: await view(db, true) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const db = await requireDatabase(deps.store, c.req.valid('param').database_id);
      return c.json(await view(db, true, includesUpgrades(c.req.valid('query').include)), 200);
    })
    .openapi(upgradeRoute, async (c) => {
      const { task, db } = await upgradeDatabaseCommand(commands, c.req.valid('param').database_id, c.req.valid('json').image);
      return c.json({ task, database: await view(db, true) }, 200);
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
