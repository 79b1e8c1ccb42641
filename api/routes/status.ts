// GET /v1/databases/{database_id}/status (extension): the status report `pgcp status` prints — instances with role
// and state, replication lag per subscription, replica lag, WAL kept by slots, backups per node.
import { createRoute } from '@hono/zod-openapi';
import { getDatabase } from '../../store/databases.js';
import { databaseNotFound } from '../database-commands.js';
import { readDatabaseStatus } from '../database-status.js';
import type { AppDeps } from '../deps.js';
import { createRouter } from '../router.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import { DatabaseIdParams } from '../schemas/database.js';
import { DatabaseStatusSchema } from '../schemas/status.js';

const statusRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}/status', operationId: 'get-database-status', tags: ['Database'],
  summary: 'Status report (extension)',
  description: 'Nodes, instances with role and state, replication lag per subscription (bytes and seconds, measured on the provider), replica lag, WAL retained by slots, and per node the last successful backup and the earliest point of recovery.',
  request: { params: DatabaseIdParams },
  responses: { ...jsonResponse(DatabaseStatusSchema, 'The database\'s status report'), 404: errorResponses[404] },
});

export function statusRoutes(deps: AppDeps) {
  return createRouter().openapi(statusRoute, async (c) => {
    const db = await getDatabase(deps.store, c.req.valid('param').database_id);
    if (!db) throw databaseNotFound();
    return c.json(await readDatabaseStatus(deps.store, db, deps.now?.() ?? new Date()), 200);
  });
}
