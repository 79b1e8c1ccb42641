// Guards in front of every route against requests a browser can be made to send.
//
// Host (DNS rebinding): a page on attacker.example whose name the attacker re-points at 127.0.0.1 reaches an API on
// loopback as its own origin, and could read it and drive it. Its requests carry `Host: attacker.example`; while the
// API listens on loopback, only the loopback names (localhost, 127.0.0.1, [::1], the bind address) and the names
// configured in PGCP_API_ALLOWED_HOSTS are answered, with or without a port. Listening elsewhere (0.0.0.0, a
// machine's address) the API has no way to know its public names: the check runs only when names are configured.
//
// Content type (cross-site requests): a page on any site can make a browser POST a form (urlencoded, multipart) or
// text/plain to localhost without asking — a "simple request" needs no CORS preflight. So a mutating request
// (POST, PUT, PATCH, DELETE) is refused with 415 unless it is sent as application/json, or has no body and no
// Content-Type at all, which is what `curl -X POST …/stop-instance` and `curl -X DELETE …` send (the reference's
// walkthrough). A browser can send such an empty request cross-site too (fetch with mode: 'no-cors'), but it always
// adds an `Origin` header to it: a mutating request whose Origin is not the API's own (the Host it was sent to) is
// refused with 403. curl, the SDK and other programs send no Origin. An application/json request from another
// origin would need a CORS preflight, which this API never grants.
//
// The GETs with side effects (cluster/init, tasks/{id}/cancel) keep the reference's wire shape; behind the Host
// check a page on another site can trigger them only blindly (an <img>), not read what they answer.
import type { MiddlewareHandler } from 'hono';
import { isIP } from 'node:net';
import type { ApiConfig } from '../platform/config.js';
import { ApiError, goaError } from './errors.js';

export const loopbackHostNames = ['localhost', '127.0.0.1', '[::1]'];

/** `name` of a Host header value (`name`, `name:port`, `[v6]`, `[v6]:port`), lowercased; null if malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]! : null;
}

const bracketed = (name: string) => (isIP(name) === 6 ? `[${name}]` : name.toLowerCase());

export function isLoopbackBind(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bind);
}

/** The Host names the API answers: null when it answers any (not on loopback, no names configured). */
export function allowedHostNames(api: Pick<ApiConfig, 'bind' | 'allowedHosts'>): Set<string> | null {
  if (!isLoopbackBind(api.bind) && api.allowedHosts.length === 0) return null;
  return new Set([...loopbackHostNames, bracketed(api.bind), ...api.allowedHosts.map(bracketed)]);
}

function hostOf(c: { req: { header: (n: string) => string | undefined; url: string } }): string {
  return c.req.header('host') ?? new URL(c.req.url).host;
}

export function hostGuard(api: Pick<ApiConfig, 'bind' | 'allowedHosts'>): MiddlewareHandler {
  const allowed = allowedHostNames(api);
  return async (c, next) => {
    if (allowed) {
      const host = hostOf(c);
      const name = hostName(host);
      if (!name || !allowed.has(name)) {
        throw new ApiError('invalid_host', `Host header ${JSON.stringify(host)} is not one this server answers to (${[...allowed].join(', ')}; more with PGCP_API_ALLOWED_HOSTS)`);
      }
    }
    await next();
  };
}

const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The JSON media types (the same as hono's json validator accepts). */
const jsonType = /^application\/([a-z0-9.-]+\+)?json$/;

export const jsonRequestMessage = 'the request must be sent with Content-Type: application/json (or, for an operation without a body, with no body and no Content-Type)';

export const jsonRequestsOnly: MiddlewareHandler = async (c, next) => {
  if (!mutating.has(c.req.method)) return next();
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    let originHost: string | null = null;
    try { originHost = new URL(origin).host; } catch { /* "null" (sandboxed frames, file:) is no origin of ours */ }
    if (originHost === null || originHost.toLowerCase() !== hostOf(c).toLowerCase()) {
      throw new ApiError('cross_origin_request', `a ${c.req.method} from another origin (Origin ${JSON.stringify(origin)}) is refused: this API is not for cross-site browser requests`);
    }
  }
  const type = c.req.header('content-type');
  // no Content-Type: allowed only without a body (read through limitBody, which runs first, and cached for the route)
  const ok = type === undefined ? (c.req.raw.body === null || (await c.req.text()).length === 0) : jsonType.test(type.split(';')[0]!.trim().toLowerCase());
  if (!ok) {
    const body = goaError('decode_payload', jsonRequestMessage);
    return c.json(body, 415, { 'goa-error': body.name });
  }
  return next();
};
