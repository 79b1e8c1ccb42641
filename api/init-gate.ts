import type { MiddlewareHandler } from 'hono';
import { getCluster } from '../store/cluster.js';
import type { Store } from '../store/db.js';
import { ApiError, messages } from './errors.js';

/** Routes that answer before the cluster exists; everything else is 409 cluster_not_initialized until init. */
export const preInit = new Set(['GET /', 'GET /v1/version', 'GET /v1/cluster/init', 'POST /v1/cluster/join', 'GET /v1/openapi.json']);

export function initGate(store: Store): MiddlewareHandler {
  let initialized = false; // a cluster never un-initializes, so the first sighting is cached
  return async (c, next) => {
    if (!initialized && !preInit.has(`${c.req.method} ${c.req.path}`)) {
      initialized = (await getCluster(store)) !== null;
      if (!initialized) throw new ApiError('cluster_not_initialized', messages.notInitialized);
    }
    await next();
  };
}
