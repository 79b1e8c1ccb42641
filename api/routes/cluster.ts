import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../router.js';
import { createCluster, getCluster } from '../../store/cluster.js';
import { getHost, upsertHost } from '../../store/hosts.js';
import type { JoinOptions } from '../../platform/membership.js';
import type { AppDeps } from '../deps.js';
import { ApiError, messages } from '../errors.js';
import { ClusterJoinRequestSchema, ClusterJoinTokenSchema, ClusterSchema, VersionInfoSchema } from '../schemas/cluster.js';
import { errorResponses, IdentifierSchema, jsonBody, jsonResponse } from '../schemas/common.js';
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

/** Joins THIS server's host to an existing cluster; served for real by a joining server (api/join-app.ts). */
export const joinClusterRoute = createRoute({
  method: 'post', path: '/v1/cluster/join', operationId: 'join-cluster', tags: ['Cluster'],
  request: jsonBody(ClusterJoinTokenSchema),
  responses: {
    204: { description: 'This host joined the cluster' },
    400: errorResponses[400],
    401: { description: 'The join token is not the cluster\'s (invalid_join_token)', content: errorResponses[400].content },
    409: errorResponses[409],
    500: errorResponses[500],
  },
});

/** Server to server: a joining server trades the token for what its host needs. Hidden, as in the reference. */
const joinOptionsRoute = createRoute({
  method: 'post', path: '/v1/internal/cluster/join-options', operationId: 'get-join-options', tags: ['Cluster'], hide: true,
  request: jsonBody(ClusterJoinRequestSchema),
  responses: { 200: { description: 'Where the control plane\'s services are, and the host\'s credentials' }, 401: errorResponses[400], 409: errorResponses[409] },
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

/** Constant time, as the reference compares the token. */
export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const invalidJoinToken = () => new ApiError('invalid_join_token', 'the given join token is invalid');

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
    // This server already belongs to a cluster, or (not one started to join, PGCP_JOINS_CLUSTER) has services of its own.
    .openapi(joinClusterRoute, async () => {
      if (await getCluster(deps.store)) throw new ApiError('cluster_already_initialized', messages.alreadyInitialized);
      throw new ApiError('operation_not_supported', 'this server uses its own Temporal, store and etcd: start it with PGCP_JOINS_CLUSTER=true to join a cluster');
    })
    .openapi(joinOptionsRoute, async (c) => {
      const req = c.req.valid('json');
      const cluster = await requireCluster();
      if (!sameToken(req.token, cluster.token)) throw invalidJoinToken();
      if (await getHost(deps.store, req.host_id)) throw new ApiError('invalid_input', `a host with ID ${req.host_id} already exists in the cluster`);
      const a = deps.config.advertise;
      const options: JoinOptions = {
        cluster_id: cluster.id,
        leader: { name: deps.config.hostId, server_url: serverUrls()[0]! },
        temporal: { address: a.temporalAddress ?? deps.config.temporal.address, namespace: deps.config.temporal.namespace },
        store: { url: a.storeUrl ?? deps.config.storeUrl },
        etcd: {
          client_urls: [a.etcdUrl ?? deps.config.etcdUrl], container_hosts: a.etcdContainerHosts ?? deps.config.etcdHostsForContainers,
          ...(deps.config.etcdCa ? { ca_cert: deps.config.etcdCa } : {}),
        },
        // Filled by the work that issues them: the host's etcd user (tenant isolation), its client certificate (mTLS).
        credentials: {},
      };
      deps.log.info({ hostId: req.host_id, addresses: req.addresses }, 'join options given');
      return c.json(options, 200);
    })
    .openapi(getClusterRoute, async (c) => {
      const cluster = await requireCluster();
      return c.json({ id: cluster.id, status: { state: 'available' as const }, hosts: await listRenderedHosts(deps) }, 200);
    });
}
