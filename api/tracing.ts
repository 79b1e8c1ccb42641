// One span per API request when tracing is on (platform/tracing.ts), named by method and route pattern. A task's
// workflow is started inside it, so the task's trace begins with the request that started it.
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

export function requestSpans(tracer: Tracer): MiddlewareHandler {
  return (c, next) => tracer.startActiveSpan(c.req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method } }, async (span) => {
    try {
      await next();
    } finally {
      const matched = routePath(c, -1);
      const route = !matched || matched.endsWith('*') ? 'unmatched' : matched;
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  });
}
