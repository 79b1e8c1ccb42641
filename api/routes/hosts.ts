import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../router.js';
import { getHost, listHosts, listHostStatuses } from '../../store/hosts.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { removeHostCommand } from '../host-commands.js';
import { QueryBool, TaskSchema } from '../schemas/database.js';
import { ApiError } from '../errors.js';
import { hostState, renderHost, type HostRenderOptions } from '../render/host.js';
import { HostSchema } from '../schemas/cluster.js';
import { errorResponses, IdentifierSchema, jsonResponse } from '../schemas/common.js';

const listHostsRoute = createRoute({
  method: 'get', path: '/v1/hosts', operationId: 'list-hosts', tags: ['Host'],
  responses: { ...jsonResponse(z.object({ hosts: z.array(HostSchema) }), 'Every host in the cluster'), 409: errorResponses[409] },
});

const getHostRoute = createRoute({
  method: 'get', path: '/v1/hosts/{host_id}', operationId: 'get-host', tags: ['Host'],
  request: { params: z.object({ host_id: IdentifierSchema }) },
  responses: { ...jsonResponse(HostSchema, 'One host'), 400: errorResponses[400], 404: errorResponses[404] },
});

const removeHostRoute = createRoute({
  method: 'delete', path: '/v1/hosts/{host_id}', operationId: 'remove-host', tags: ['Host'],
  request: {
    params: z.object({ host_id: IdentifierSchema }),
    query: z.object({
      force: QueryBool.optional().openapi({ description: 'Remove the host although databases have instances there: it leaves every node\'s host_ids, and a node left with no host is removed' }),
    }),
  },
  responses: {
    ...jsonResponse(z.object({ task: TaskSchema, update_database_tasks: z.array(TaskSchema) }).openapi('RemoveHostResponse'),
      'The remove_host task, and the update task of each database that had the host'),
    400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409],
  },
});

function renderOptions(deps: AppDeps): HostRenderOptions {
  return { now: deps.now?.() ?? new Date(), staleAfterMs: deps.config.heartbeatMs * 3, apiPort: deps.config.api.port };
}

export async function listRenderedHosts(deps: AppDeps) {
  const [hosts, statuses] = await Promise.all([listHosts(deps.store), listHostStatuses(deps.store)]);
  const opts = renderOptions(deps);
  return hosts.map((h) => renderHost(h, statuses.get(h.id), opts));
}

export function hostRoutes(deps: AppDeps) {
  return createRouter()
    .openapi(listHostsRoute, async (c) => c.json({ hosts: await listRenderedHosts(deps) }, 200))
    .openapi(getHostRoute, async (c) => {
      const { host_id } = c.req.valid('param');
      const host = await getHost(deps.store, host_id);
      // The reference answers 500 here (§11.5); a missing host is a 404.
      if (!host) throw new ApiError('not_found', 'no host found with the given ID');
      const statuses = await listHostStatuses(deps.store);
      return c.json(renderHost(host, statuses.get(host_id), renderOptions(deps)), 200);
    })
    .openapi(removeHostRoute, async (c) => {
      const { host_id } = c.req.valid('param');
      const commands = { store: deps.store, temporal: () => requireTemporal(deps), selfHostId: deps.config.hostId };
      const gone = hostState((await listHostStatuses(deps.store)).get(host_id), renderOptions(deps)).state !== 'healthy';
      return c.json(await removeHostCommand(commands, host_id, c.req.valid('query').force ?? false, gone), 200);
    });
}
