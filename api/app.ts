import { requestId } from 'hono/request-id';
import type { AppDeps } from './deps.js';
import { ApiError, renderError } from './errors.js';
import { initGate } from './init-gate.js';
import { declareErrorStatuses } from './openapi-errors.js';
import { createRouter } from './router.js';
import { clusterRoutes } from './routes/cluster.js';
import { databaseRoutes } from './routes/databases.js';
import { hostRoutes } from './routes/hosts.js';
import { operationRoutes } from './routes/operations.js';
import { restoreRoutes } from './routes/restore.js';
import { taskRoutes } from './routes/tasks.js';
import { limitBody, requireJsonBody } from './json-body.js';

export function createApp(deps: AppDeps) {
  const app = createRouter();
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started), requestId: c.get('requestId') }, 'request');
  });
  app.use(initGate(deps.store));
  app.use('/v1/*', limitBody);
  app.use('/v1/*', requireJsonBody);
  app.get('/', (c) => c.body(null, 204, { Link: '</v1/openapi.json>; rel="service-desc"' }));
  app.route('/', clusterRoutes(deps));
  app.route('/', hostRoutes(deps));
  app.route('/', databaseRoutes(deps));
  app.route('/', operationRoutes(deps));
  app.route('/', restoreRoutes(deps));
  app.route('/', taskRoutes(deps));
  declareErrorStatuses(app);
  app.doc('/v1/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'Control Plane', version: deps.version.version, description: 'pgEdge Control Plane v1 compatible API' },
  });
  app.notFound(() => { throw new ApiError('not_found', 'no such endpoint'); });
  app.onError((err, c) => renderError(c, err, deps.log));
  return app;
}
