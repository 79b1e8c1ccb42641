import { createRoute, z } from '@hono/zod-openapi';
import { requireTemporal, type AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { createRouter } from '../router.js';
import { errorResponses, IdentifierSchema, jsonResponse } from '../schemas/common.js';
import { GlobalTaskListQuerySchema, QueryBool, TaskListQuerySchema, TaskLogQuerySchema, TaskLogSchema, TaskParams, TaskSchema } from '../schemas/database.js';
import { pageTaskLog } from '../task-log.js';
import { followTaskLog } from '../task-log-stream.js';
import { cancelTask, getTask, getTaskLog, listTasks, warmTaskListing, type ListTasksQuery } from '../tasks.js';

const Tasks = z.object({ tasks: z.array(TaskSchema) });
const sortOrder = (s: string | undefined): ListTasksQuery['sortOrder'] => (s?.startsWith('asc') ? 'asc' : 'desc');
const HostTaskParams = z.object({ host_id: IdentifierSchema, task_id: IdentifierSchema });
/** The log, polled as JSON or (follow=true, extension) streamed as server-sent events until the task ends. */
const LogQuery = TaskLogQuerySchema.extend({
  follow: QueryBool.optional().openapi({ description: 'Stream entries as server-sent events (event "entry", id = entry id) until the task ends (event "end") (extension)' }),
});
const logResponse = (description: string) => ({
  200: { description, content: { 'application/json': { schema: TaskLogSchema }, 'text/event-stream': { schema: z.string().openapi({ description: 'With follow=true: `entry` events, then one `end` event' }) } } },
});

const listDbTasksRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}/tasks', operationId: 'list-database-tasks', tags: ['Database'],
  request: { params: z.object({ database_id: IdentifierSchema }), query: TaskListQuerySchema },
  responses: { ...jsonResponse(Tasks, 'The database\'s tasks, newest first by default'), 400: errorResponses[400] },
});
const getDbTaskRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}/tasks/{task_id}', operationId: 'get-database-task', tags: ['Database'],
  request: { params: TaskParams },
  responses: { ...jsonResponse(TaskSchema, 'One task'), 404: errorResponses[404] },
});
const getDbTaskLogRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}/tasks/{task_id}/log', operationId: 'get-database-task-log', tags: ['Database'],
  request: { params: TaskParams, query: LogQuery },
  responses: { ...logResponse('The task\'s log, rendered from its workflow history'), 404: errorResponses[404] },
});
const cancelDbTaskRoute = createRoute({
  method: 'get', path: '/v1/databases/{database_id}/tasks/{task_id}/cancel', operationId: 'cancel-database-task', tags: ['Database'],
  request: { params: TaskParams },
  responses: { ...jsonResponse(TaskSchema, 'The task, now canceling'), 400: errorResponses[400], 404: errorResponses[404] },
});
const listTasksRoute = createRoute({
  method: 'get', path: '/v1/tasks', operationId: 'list-tasks', tags: ['System'],
  request: { query: GlobalTaskListQuerySchema },
  responses: { ...jsonResponse(Tasks, 'Tasks of every scope'), 400: errorResponses[400] },
});
const listHostTasksRoute = createRoute({
  method: 'get', path: '/v1/hosts/{host_id}/tasks', operationId: 'list-host-tasks', tags: ['Host'],
  request: { params: z.object({ host_id: IdentifierSchema }), query: TaskListQuerySchema },
  responses: { ...jsonResponse(Tasks, 'The host\'s tasks'), 400: errorResponses[400] },
});
const getHostTaskRoute = createRoute({
  method: 'get', path: '/v1/hosts/{host_id}/tasks/{task_id}', operationId: 'get-host-task', tags: ['Host'],
  request: { params: HostTaskParams },
  responses: { ...jsonResponse(TaskSchema, 'One host task'), 404: errorResponses[404] },
});
const getHostTaskLogRoute = createRoute({
  method: 'get', path: '/v1/hosts/{host_id}/tasks/{task_id}/logs', operationId: 'get-host-task-log', tags: ['Host'],
  request: { params: HostTaskParams, query: LogQuery },
  responses: { ...logResponse('The host task\'s log'), 404: errorResponses[404] },
});

export function taskRoutes(deps: AppDeps) {
  const client = () => requireTemporal(deps);
  // the task index loads at start, so the first listing is answered from it (api/tasks.ts)
  if (deps.temporal) void warmTaskListing(deps.temporal);

  async function log(scope: 'database' | 'host', entityId: string, taskId: string, q: z.infer<typeof TaskLogQuerySchema>) {
    const task = await getTask(client(), taskId, { scope, entityId });
    const { entries, lastEntryId } = pageTaskLog(await getTaskLog(client(), taskId), q.after_entry_id, q.limit);
    return {
      scope, entity_id: entityId, ...(scope === 'database' ? { database_id: entityId } : {}), task_id: taskId, task_status: task.status,
      ...(lastEntryId ? { last_entry_id: lastEntryId } : {}),
      entries: entries.map(({ id: _id, ...e }) => e),
    };
  }

  return createRouter()
    .openapi(listDbTasksRoute, async (c) => {
      const q = c.req.valid('query');
      const tasks = await listTasks(client(), { scope: 'database', entityId: c.req.valid('param').database_id, afterTaskId: q.after_task_id, limit: q.limit, sortOrder: sortOrder(q.sort_order) });
      return c.json({ tasks }, 200);
    })
    .openapi(getDbTaskRoute, async (c) => {
      const p = c.req.valid('param');
      return c.json(await getTask(client(), p.task_id, { scope: 'database', entityId: p.database_id }), 200);
    })
    .openapi(getDbTaskLogRoute, async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      if (q.follow) return followTaskLog(c, { client: client(), taskId: p.task_id, entity: { scope: 'database', entityId: p.database_id }, afterEntryId: q.after_entry_id });
      return c.json(await log('database', p.database_id, p.task_id, q), 200);
    })
    .openapi(cancelDbTaskRoute, async (c) => {
      const p = c.req.valid('param');
      const task = await getTask(client(), p.task_id, { scope: 'database', entityId: p.database_id }).catch((err: unknown) => {
        if (err instanceof ApiError && err.errorName === 'not_found') throw new ApiError('not_found', 'no task found with the given ID');
        throw err;
      });
      return c.json(await cancelTask(client(), task), 200);
    })
    .openapi(listTasksRoute, async (c) => {
      const q = c.req.valid('query');
      if (q.entity_id && !q.scope) throw new ApiError('invalid_input', 'entity_id requires scope to be set');
      const tasks = await listTasks(client(), { scope: q.scope, entityId: q.entity_id, afterTaskId: q.after_task_id, limit: q.limit, sortOrder: sortOrder(q.sort_order) });
      return c.json({ tasks }, 200);
    })
    .openapi(listHostTasksRoute, async (c) => {
      const q = c.req.valid('query');
      const tasks = await listTasks(client(), { scope: 'host', entityId: c.req.valid('param').host_id, afterTaskId: q.after_task_id, limit: q.limit, sortOrder: sortOrder(q.sort_order) });
      return c.json({ tasks }, 200);
    })
    .openapi(getHostTaskRoute, async (c) => {
      const p = c.req.valid('param');
      return c.json(await getTask(client(), p.task_id, { scope: 'host', entityId: p.host_id }), 200);
    })
    .openapi(getHostTaskLogRoute, async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      if (q.follow) return followTaskLog(c, { client: client(), taskId: p.task_id, entity: { scope: 'host', entityId: p.host_id }, afterEntryId: q.after_entry_id });
      return c.json(await log('host', p.host_id, p.task_id, q), 200);
    });
}
