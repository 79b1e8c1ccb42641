// Every error status a route can answer is declared in the OpenAPI document, derived from what the app does for
// every route rather than listed by hand: 400 for anything it validates (params, query, body; any POST body's text),
// 404 where a path names something, 409 before the cluster is initialized (init-gate.ts), 413 for a body over the
// limit, 415 for a mutating request that is not JSON (request-guards.ts), 403 everywhere (a Host the API does not
// answer to; on mutating routes also a cross-origin browser request), 500 everywhere. What a route declares itself
// is kept.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { preInit } from './init-gate.js';
import { errorResponses } from './schemas/common.js';

type RouteDef = { method: string; path: string; request?: { params?: unknown; query?: unknown; body?: unknown }; responses: Record<string, unknown> };

export function declareErrorStatuses(app: OpenAPIHono): void {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const r = def.route as unknown as RouteDef;
    const req = r.request ?? {};
    const post = r.method === 'post';
    const mutating = ['post', 'put', 'patch', 'delete'].includes(r.method);
    const derived: Record<string, unknown> = {
      ...(req.params || req.query || req.body || post ? { 400: errorResponses[400] } : {}),
      403: errorResponses[403],
      ...(req.params ? { 404: errorResponses[404] } : {}),
      ...(preInit.has(`${r.method.toUpperCase()} ${r.path}`) ? {} : { 409: errorResponses[409] }),
      ...(post ? { 413: errorResponses[413] } : {}),
      ...(mutating ? { 415: errorResponses[415] } : {}),
      500: errorResponses[500],
    };
    (def as { route: unknown }).route = { ...r, responses: { ...derived, ...r.responses } };
  }
}
