// Request bodies before any route sees them: at most maxBodyBytes (a larger one is a 413 before it is read whole),
// present and well-formed JSON where the reference requires one, and no string (value or key) that the store or
// Postgres cannot hold: a NUL character or an unpaired UTF-16 surrogate would pass validation and fail as a 500 when
// the spec is written to the store's jsonb.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError, goaError } from './errors.js';

export const maxBodyBytes = 1024 * 1024;

export const limitBody: MiddlewareHandler = bodyLimit({
  maxSize: maxBodyBytes,
  onError: () => { throw new ApiError('payload_too_large', `the request body must be at most ${maxBodyBytes} bytes`); },
});

/** POSTs whose body is required: pgEdge answers missing_payload / decode_payload before any validation. */
const bodyRequired = [/^\/v1\/databases$/, /^\/v1\/databases\/[^/]+$/, /^\/v1\/cluster\/join$/, /^\/v1\/internal\/cluster\/join-options$/, /^\/v1\/internal\/cluster\/host-credentials(\/confirm)?$/];

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const unstorable = /\u0000|\p{Cs}/u;

/** The first string of a JSON value, key or value, Postgres cannot store: its path (relative to `spec`, as app-level errors are). */
export function unstorableText(value: unknown, path = ''): string | null {
  const at = (p: string) => (p.startsWith('spec.') ? p.slice(5) : p) || 'body';
  if (typeof value === 'string') return unstorable.test(value) ? at(path) : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = unstorableText(v, `${path}[${i}]`);
      if (bad) return bad;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (unstorable.test(k)) return at(path);
      const bad = unstorableText(v, path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
  }
  return null;
}

export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== 'POST') return next();
  const required = bodyRequired.some((r) => r.test(c.req.path));
  const text = c.req.raw.body ? await c.req.text() : '';
  if (!text.trim()) {
    if (!required) return next();
    const body = goaError('missing_payload', 'missing required payload');
    return c.json(body, 400, { 'goa-error': body.name });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (!required) return next(); // the route's own validator answers, in the reference's words
    const body = goaError('decode_payload', err instanceof Error ? err.message : 'invalid JSON');
    return c.json(body, 400, { 'goa-error': body.name });
  }
  const bad = unstorableText(parsed);
  if (bad) throw new ApiError('invalid_input', `${bad}: must not contain NUL characters or unpaired UTF-16 surrogates`);
  return next();
};
