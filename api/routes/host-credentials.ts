// Rotation of a joined host's credentials, server to server (hidden, like join-options): the host asks the server
// that issued its credentials for a new generation — a new store role, etcd user and client certificate — proving
// who it is with its current store password (the store itself checks it); it switches to them (its processes
// restart on the new files), then confirms with the new password, and only then are the older generations revoked.
// Nothing is down in between: both generations are valid until the confirmation. Run by `npm run rotate-credentials`
// on the host (scripts/rotate-credentials.ts).
import { createRoute, z } from '@hono/zod-openapi';
import pg from 'pg';
import { createEtcd } from '../../activities/etcd.js';
import { issueHostCredentials, revokeHostCredentials } from '../../activities/control-plane/host-credentials.js';
import { canCreateRoles, listHostCredentials } from '../../store/host-credentials.js';
import { getHost } from '../../store/hosts.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { createRouter } from '../router.js';
import { errorResponses, jsonBody } from '../schemas/common.js';

const ProofSchema = z.object({ host_id: z.string().min(1).max(36), store_password: z.string().min(1).max(200) });

const rotateRoute = createRoute({
  method: 'post', path: '/v1/internal/cluster/host-credentials', operationId: 'rotate-host-credentials', tags: ['Cluster'], hide: true,
  request: jsonBody(ProofSchema),
  responses: { 200: { description: 'A new generation of the host\'s credentials' }, 400: errorResponses[400], 401: errorResponses[400], 404: errorResponses[404] },
});

const confirmRoute = createRoute({
  method: 'post', path: '/v1/internal/cluster/host-credentials/confirm', operationId: 'confirm-host-credentials', tags: ['Cluster'], hide: true,
  request: jsonBody(ProofSchema.extend({ generation: z.number().int().min(1) })),
  responses: { 204: { description: 'The older generations are revoked' }, 400: errorResponses[400], 401: errorResponses[400], 404: errorResponses[404] },
});

const refused = () => new ApiError('invalid_credentials', 'the host\'s credentials were not accepted');

export function hostCredentialRoutes(deps: AppDeps) {
  const { config } = deps;
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const urlFor = (user: string, password: string) => {
    const u = new URL(config.advertise.storeUrl ?? config.storeUrl);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
  };
  /** The store's own check of a password of one of the host's roles: a login. Returns the generation it belongs to. */
  async function prove(hostId: string, password: string, generation?: number): Promise<number> {
    if (config.joinServerUrls || !(await canCreateRoles(deps.store))) {
      throw new ApiError('operation_not_supported', `this server cannot issue a host's credentials: ask ${config.joinServerUrls?.join(', ') ?? 'the server the host joined through'}`);
    }
    if (!(await getHost(deps.store, hostId))) throw new ApiError('not_found', 'no host found with the given ID');
    const records = (await listHostCredentials(deps.store, hostId)).filter((r) => generation === undefined || r.generation === generation);
    for (const r of records.reverse()) {
      const u = new URL(config.storeUrl);
      u.username = encodeURIComponent(r.storeRole);
      u.password = encodeURIComponent(password);
      const c = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      const ok = await c.connect().then(() => true, () => false);
      await c.end().catch(() => undefined);
      if (ok) return r.generation;
    }
    throw refused();
  }

  return createRouter()
    .openapi(rotateRoute, async (c) => {
      const { host_id, store_password } = c.req.valid('json');
      await prove(host_id, store_password);
      const etcd = createEtcd(config.etcdUrl, config.etcdCredentials, config.etcdCa);
      const issued = await issueHostCredentials({ store: deps.store, etcd, pkiDir: config.pkiDir, tls: config.api.tls !== null || config.temporal.tls !== null }, host_id);
      const cert = issued.certificate;
      deps.log.info({ hostId: host_id, generation: issued.record.generation, storeRole: issued.store.user, etcdUser: issued.etcd?.user }, 'host credentials issued (rotation)');
      return c.json({
        generation: issued.record.generation,
        store: { url: urlFor(issued.store.user, issued.store.password) },
        credentials: {
          ...(issued.etcd ? { username: issued.etcd.user, password: issued.etcd.password } : {}),
          ...(cert ? { ca_cert: b64(cert.ca), client_cert: b64(cert.cert), client_key: b64(cert.key) } : {}),
        },
      }, 200);
    })
    .openapi(confirmRoute, async (c) => {
      const { host_id, store_password, generation } = c.req.valid('json');
      await prove(host_id, store_password, generation);
      const revoked = await revokeHostCredentials({ store: deps.store, etcd: createEtcd(config.etcdUrl, config.etcdCredentials, config.etcdCa) }, host_id, generation);
      deps.log.info({ hostId: host_id, generation, revoked }, 'host credentials rotated: older generations revoked');
      return c.body(null, 204);
    });
}
