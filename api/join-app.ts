// The API of a server started to join a cluster (PGCP_JOINS_CLUSTER=true) until it has: GET /v1/version, and
// POST /v1/cluster/join with a join token and an existing server's URLs. The join asks that server for the join
// options (POST /v1/internal/cluster/join-options: the token checked there), keeps them in this host's data
// directory (platform/membership.ts, 0600), registers this host through the store it learned, and hands over to
// the full API (api/main.ts). Everything else answers 409 cluster_not_initialized, as the reference does.
import { requestId } from 'hono/request-id';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { JoinOptionsSchema, keepJoin, readMembership, removeMembership, type Membership } from '../platform/membership.js';
import type { AppDeps } from './deps.js';
import { ApiError, apiErrorStatus, messages, renderError, type ApiErrorName } from './errors.js';
import { limitBody, requireJsonBody } from './json-body.js';
import { createRouter } from './router.js';
import { joinClusterRoute } from './routes/cluster.js';

export interface JoinAppDeps {
  config: Config;
  log: Logger;
  version: AppDeps['version'];
  /** Registers the host and starts serving the full API; the join fails (and can be retried) if this throws. */
  onJoined: (m: Membership) => Promise<void>;
  /** The outbound calls; with mTLS on, one that presents this server's client certificate. */
  fetch?: typeof fetch;
}

const probeTimeoutMs = 5000;

/** The first server that answers GET /v1/version within 5 s, in the given order (the reference's probe). */
async function firstReachable(f: typeof fetch, urls: string[]): Promise<string> {
  for (const url of urls) {
    const base = url.replace(/\/+$/, '');
    const ok = await f(`${base}/v1/version`, { signal: AbortSignal.timeout(probeTimeoutMs) }).then((r) => r.ok, () => false);
    if (ok) return base;
  }
  throw new ApiError('server_error', `failed to reach any of the given servers: ${urls.join(', ')}`);
}

/** The existing server's refusal, as this server's own: its error names are ours (invalid_join_token, invalid_input…). */
function refusal(server: string, status: number, text: string): ApiError {
  let body: { name?: string; message?: string } = {};
  try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: named below */ }
  if (body.name && body.name in apiErrorStatus && body.name !== 'server_error' && status < 500) return new ApiError(body.name as ApiErrorName, body.message ?? '');
  if (status >= 400 && status < 500 && body.message) return new ApiError('invalid_input', `${server} refused the join: ${body.message}`);
  return new ApiError('server_error', `${server} answered the join with ${status}`);
}

export function createJoinApp(deps: JoinAppDeps) {
  const f = deps.fetch ?? fetch;
  const { config } = deps;
  let joining = false;
  const app = createRouter();
  app.use(requestId());
  app.use(async (c, next) => {
    await next();
    deps.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, requestId: c.get('requestId') }, 'request');
  });
  app.use('/v1/*', limitBody);
  app.use('/v1/*', requireJsonBody);
  app.get('/', (c) => c.body(null, 204, { Link: '</v1/openapi.json>; rel="service-desc"' }));
  app.get('/v1/version', (c) => c.json(deps.version, 200));
  app.get('/v1/cluster/init', () => {
    throw new ApiError('operation_not_supported', 'this server joins an existing cluster: POST /v1/cluster/join with that cluster\'s join token');
  });
  app.openapi(joinClusterRoute, async (c) => {
    const { token, server_urls } = c.req.valid('json');
    if (joining || readMembership(config.dataDir)) throw new ApiError('cluster_already_initialized', messages.alreadyInitialized);
    joining = true;
    try {
      const server = await firstReachable(f, server_urls);
      const res = await f(`${server}/v1/internal/cluster/join-options`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, host_id: config.hostId, addresses: [config.hostAddress], embedded_etcd_enabled: false }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (!res.ok) throw refusal(server, res.status, text);
      // The answer carries this host's credentials: never logged, kept only in this host's 0600 files.
      const parsed = JoinOptionsSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new ApiError('server_error', `${server} answered the join with options this server does not understand`);
      // The issuing server as this server reached it (its own idea of its URL may not be reachable from here).
      const membership: Membership = { ...parsed.data, leader: { ...parsed.data.leader, server_url: server }, host_id: config.hostId, joined_at: new Date().toISOString() };
      try {
        keepJoin(config, membership);
      } catch (err) {
        removeMembership(config.dataDir);
        throw new ApiError('invalid_input', err instanceof Error ? err.message : String(err));
      }
      try {
        await deps.onJoined(readMembership(config.dataDir)!);
      } catch (err) {
        removeMembership(config.dataDir);
        throw err;
      }
      deps.log.info({ clusterId: membership.cluster_id, server }, 'joined the cluster');
      return c.body(null, 204);
    } finally {
      joining = false;
    }
  });
  app.notFound(() => { throw new ApiError('cluster_not_initialized', messages.notInitialized); });
  app.onError((err, c) => renderError(c, err, deps.log));
  return app;
}
