import { requestId } from 'hono/request-id';
import type { AppDeps } from './deps.js';
import { ApiError, renderError } from './errors.js';
import { initGate } from './init-gate.js';
import { declareErrorStatuses } from './openapi-errors.js';
import { createRouter } from './router.js';
import { clusterRoutes } from './routes/cluster.js';
import { hostCredentialRoutes } from './routes/host-credentials.js';
import { databaseRoutes } from './routes/databases.js';
import { hostRoutes } from './routes/hosts.js';
import { operationRoutes } from './routes/operations.js';
import { restoreRoutes } from './routes/restore.js';
import { taskRoutes } from './routes/tasks.js';
import { limitBody, requireJsonBody } from './json-body.js';
import { hostGuard, jsonRequestsOnly } from './request-guards.js';
import { docsRoutes } from './docs.js';
import { createMetrics } from './metrics.js';
import { statusRoutes } from './routes/status.js';
import { requestSpans } from './tracing.js';
import { refuseRevokedCertificates } from './revoked-certificates.js';

/** The OpenAPI document's header: /v1/openapi.json and the SDK's generated types (scripts/generate-sdk-types.ts). */
export const openApiConfig = (version: string) => ({
  openapi: '3.0.3',
  info: { title: 'Control Plane', version, description: 'pgEdge Control Plane v1 compatible API' },
});

export function createApp(deps: AppDeps) {
  const app = createRouter();
  const metrics = createMetrics({ store: deps.store, temporal: deps.temporal, now: deps.now });
  app.use(requestId());
  app.use(metrics.middleware);
  if (deps.tracer) app.use(requestSpans(deps.tracer));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started), requestId: c.get('requestId') }, 'request');
  });
  app.use(hostGuard(deps.config.api));
  if (deps.config.api.tls) app.use(refuseRevokedCertificates(deps.store));
  // Answered before the cluster exists, like /v1/version: scraping and reading the reference need no cluster.
  app.get('/metrics', async (c) => {
    const m = await metrics.render();
    return c.body(m.body, 200, { 'content-type': m.contentType });
  });
  app.route('/', docsRoutes({ scriptFile: deps.config.docsScript }));
  app.use(initGate(deps.store));
  app.use('/v1/*', limitBody);
  app.use('/v1/*', jsonRequestsOnly);
  app.use('/v1/*', requireJsonBody);
  app.get('/', (c) => c.body(null, 204, { Link: '</v1/openapi.json>; rel="service-desc"' }));
  app.route('/', clusterRoutes(deps));
  app.route('/', hostCredentialRoutes(deps));
  app.route('/', hostRoutes(deps));
  app.route('/', databaseRoutes(deps));
  app.route('/', operationRoutes(deps));
  app.route('/', restoreRoutes(deps));
  app.route('/', taskRoutes(deps));
  app.route('/', statusRoutes(deps));
  declareErrorStatuses(app);
  app.doc('/v1/openapi.json', openApiConfig(deps.version.version));
  app.notFound(() => { throw new ApiError('not_found', 'no such endpoint'); });
  app.onError((err, c) => renderError(c, err, deps.log));
  return app;
}
