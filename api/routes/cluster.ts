import { createHash, randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../router.js';
import { createCluster, getCluster } from '../../store/cluster.js';
import { upsertHost } from '../../store/hosts.js';
import type { AppDeps } from '../deps.js';
import { ApiError, messages } from '../errors.js';
import { ClusterJoinTokenSchema, ClusterSchema, VersionInfoSchema } from '../schemas/cluster.js';
import { errorResponses, IdentifierSchema, jsonResponse } from '../schemas/common.js';
import { listRenderedHosts } from './hosts.js';

const getVersionRoute = createRoute({
  method: 'get', path: '/v1/version', operationId: 'get-version', tags: ['System'],
  responses: { ...jsonResponse(VersionInfoSchema, 'Version of this control plane'), 500: errorResponses[500] },
});

const initClusterRoute = createRoute({
  method: 'get', path: '/v1/cluster/init', operationId: 'init-cluster', tags: ['Cluster'],
  request: { query: z.object({ cluster_id: IdentifierSchema.optional() }) },
  responses: { ...jsonResponse(ClusterJoinTokenSchema, 'The new cluster\'s join token'), 400: errorResponses[400], 409: errorResponses[409] },
});

const getJoinTokenRoute = createRoute({
  method: 'get', path: '/v1/cluster/join-token', operationId: 'get-join-token', tags: ['Cluster'],
  responses: { ...jsonResponse(ClusterJoinTokenSchema, 'The cluster\'s join token'), 409: errorResponses[409] },
});

const getClusterRoute = createRoute({
  method: 'get', path: '/v1/cluster', operationId: 'get-cluster', tags: ['Cluster'],
  responses: { ...jsonResponse(ClusterSchema, 'The cluster and its hosts'), 409: errorResponses[409] },
});

/** `PGEDGE-<64 hex>-<32 hex>`, the reference's token shape; the first part identifies the cluster. */
export function newJoinToken(): string {
  const clusterSecret = createHash('sha256').update(randomBytes(32)).digest('hex');
  return `PGEDGE-${clusterSecret}-${randomBytes(16).toString('hex')}`;
}

export function clusterRoutes(deps: AppDeps) {
  const serverUrls = () => [`http://${deps.config.hostAddress}:${deps.config.api.port}`];
  const requireCluster = async () => {
    const cluster = await getCluster(deps.store);
    if (!cluster) throw new ApiError('cluster_not_initialized', messages.notInitialized);
    return cluster;
  };

  return createRouter()
    .openapi(getVersionRoute, (c) => c.json(deps.version, 200))
    .openapi(initClusterRoute, async (c) => {
      const { cluster_id } = c.req.valid('query');
      // The host first: if that fails, no cluster exists yet and init can be retried.
      await upsertHost(deps.store, {
        id: deps.config.hostId,
        address: deps.config.hostAddress,
        dataDir: deps.config.dataDir,
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
      });
      const created = await createCluster(deps.store, cluster_id ?? randomUUID(), newJoinToken());
      if (!created) throw new ApiError('cluster_already_initialized', messages.alreadyInitialized);
      return c.json({ token: created.token, server_urls: serverUrls() }, 200);
    })
    .openapi(getJoinTokenRoute, async (c) => {
      const cluster = await requireCluster();
      return c.json({ token: cluster.token, server_urls: serverUrls() }, 200);
    })
    .openapi(getClusterRoute, async (c) => {
      const cluster = await requireCluster();
      return c.json({ id: cluster.id, status: { state: 'available' as const }, hosts: await listRenderedHosts(deps) }, 200);
    });
}
