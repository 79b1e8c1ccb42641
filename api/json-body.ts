import type { MiddlewareHandler } from 'hono';
import { goaError } from './errors.js';

/** POSTs whose body is required: pgEdge answers missing_payload / decode_payload before any validation. */
const bodyRequired = [/^\/v1\/databases$/, /^\/v1\/databases\/[^/]+$/, /^\/v1\/cluster\/join$/];

export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'POST' && bodyRequired.some((r) => r.test(c.req.path))) {
    const text = await c.req.text();
    if (!text.trim()) {
      const body = goaError('missing_payload', 'missing required payload');
      return c.json(body, 400, { 'goa-error': body.name });
    }
    try {
      JSON.parse(text);
    } catch (err) {
      const body = goaError('decode_payload', err instanceof Error ? err.message : 'invalid JSON');
      return c.json(body, 400, { 'goa-error': body.name });
    }
  }
  await next();
};
