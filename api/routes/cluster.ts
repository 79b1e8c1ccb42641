import { createHash, randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../router.js';
import { createCluster, getCluster, tokenMatches } from '../../store/cluster.js';
import { canCreateRoles } from '../../store/host-credentials.js';
import { createEtcd } from '../../activities/etcd.js';
import { issueHostCredentials, revokeHostCredentials } from '../../activities/control-plane/host-credentials.js';
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

export const invalidJoinToken = () => new ApiError('invalid_join_token', 'the given join token is invalid');

export function clusterRoutes(deps: AppDeps) {
  // A joined server sends new hosts to the server that issued its own credentials: it cannot issue any.
  const serverUrls = () => deps.config.joinServerUrls ?? [`${deps.config.api.tls ? 'https' : 'http'}://${deps.config.hostAddress}:${deps.config.api.port}`];
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const withUser = (url: string, user: string, password: string) => {
    const u = new URL(url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
  };
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
      return c.json({ token: created.token(), server_urls: serverUrls() }, 200);
    })
    .openapi(getJoinTokenRoute, async (c) => {
      const cluster = await requireCluster();
      return c.json({ token: cluster.token(), server_urls: serverUrls() }, 200);
    })
    // This server already belongs to a cluster, or (not one started to join, PGCP_JOINS_CLUSTER) has services of its own.
    .openapi(joinClusterRoute, async () => {
      if (await getCluster(deps.store)) throw new ApiError('cluster_already_initialized', messages.alreadyInitialized);
      throw new ApiError('operation_not_supported', 'this server uses its own Temporal, store and etcd: start it with PGCP_JOINS_CLUSTER=true to join a cluster');
    })
    .openapi(joinOptionsRoute, async (c) => {
      const req = c.req.valid('json');
      const cluster = await requireCluster();
      if (!tokenMatches(req.token, cluster.tokenHash)) throw invalidJoinToken();
      if (await getHost(deps.store, req.host_id)) throw new ApiError('invalid_input', `a host with ID ${req.host_id} already exists in the cluster`);
      const { config } = deps;
      // Only a server holding the control plane's own credentials (the store's owner, etcd's root, the key) issues a host's.
      if (config.joinServerUrls || !deps.secretKey || !(await canCreateRoles(deps.store))) {
        throw new ApiError('operation_not_supported', `this server cannot issue a joining host's credentials: send the join to ${serverUrls().join(', ')}`);
      }
      const etcd = createEtcd(config.etcdUrl, config.etcdCredentials, config.etcdCa);
      const tls = config.api.tls !== null || config.temporal.tls !== null;
      // Credentials of an earlier join of this host id that never registered (it failed after this answer) go first.
      await revokeHostCredentials({ store: deps.store, etcd }, req.host_id);
      const issued = await issueHostCredentials({ store: deps.store, etcd, pkiDir: config.pkiDir, tls }, req.host_id);
      const a = config.advertise;
      const cert = issued.certificate;
      const options: JoinOptions = {
        cluster_id: cluster.id,
        leader: { name: config.hostId, server_url: serverUrls()[0]! },
        temporal: {
          address: a.temporalAddress ?? config.temporal.address, namespace: config.temporal.namespace,
          ...(config.temporal.tls ? { tls: true, ...(config.temporal.tls.serverName ? { server_name: config.temporal.tls.serverName } : {}) } : {}),
        },
        store: { url: withUser(a.storeUrl ?? config.storeUrl, issued.store.user, issued.store.password) },
        etcd: {
          client_urls: [a.etcdUrl ?? config.etcdUrl], container_hosts: a.etcdContainerHosts ?? config.etcdHostsForContainers,
          ...(config.etcdCa ? { ca_cert: config.etcdCa } : {}),
        },
        credentials: {
          ...(issued.etcd ? { username: issued.etcd.user, password: issued.etcd.password } : {}),
          ...(cert ? { ca_cert: b64(cert.ca), client_cert: b64(cert.cert), client_key: b64(cert.key) } : {}),
          secret_key: deps.secretKey.toString('base64'),
        },
      };
      // Names only: the credentials are in the answer, never in a log line.
      deps.log.info({ hostId: req.host_id, addresses: req.addresses, storeRole: issued.store.user, etcdUser: issued.etcd?.user, certificate: cert !== null }, 'join options given: credentials issued');
      return c.json(options, 200);
    })
    .openapi(getClusterRoute, async (c) => {
      const cluster = await requireCluster();
      return c.json({ id: cluster.id, status: { state: 'available' as const }, hosts: await listRenderedHosts(deps) }, 200);
    });
}
