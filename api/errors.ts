// pgEdge's two error bodies: APIError {name, message} for domain errors, and Goa's ErrorResponse for request
// decoding/validation. One table maps names to statuses; routes only throw ApiError.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { Logger } from '../platform/logger.js';

export const apiErrorStatus = {
  invalid_input: 400,
  operation_not_supported: 400,
  invalid_join_token: 401,
  invalid_credentials: 401,
  invalid_host: 403,
  cross_origin_request: 403,
  certificate_revoked: 403,
  not_found: 404,
  cluster_already_initialized: 409,
  cluster_not_initialized: 409,
  database_already_exists: 409,
  database_not_modifiable: 409,
  operation_already_in_progress: 409,
  payload_too_large: 413,
  server_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ApiErrorName = keyof typeof apiErrorStatus;

export class ApiError extends Error {
  constructor(readonly errorName: ApiErrorName, message: string) {
    super(message);
  }
  get status(): ContentfulStatusCode { return apiErrorStatus[this.errorName]; }
}

export const messages = {
  notInitialized: 'this operation is invalid on an uninitialized cluster',
  alreadyInitialized: 'this operation is invalid on an initialized cluster',
  invalidId: 'valid IDs must be 1-36 characters long, contain only lowercase letters, digits, and hyphens, start and end with a letter or digit, and not contain two consecutive hyphens',
} as const;

/** Goa's request-validation error names. */
export type GoaErrorName =
  | 'missing_payload' | 'decode_payload' | 'missing_field' | 'invalid_length' | 'invalid_pattern'
  | 'invalid_format' | 'invalid_enum_value' | 'invalid_range' | 'invalid_field_type';

export interface GoaErrorBody {
  name: GoaErrorName | 'fault';
  id: string;
  message: string;
  temporary: boolean;
  timeout: boolean;
  fault: boolean;
}

export function goaError(name: GoaErrorName, message: string): GoaErrorBody {
  return { name, id: randomBytes(6).toString('base64url'), message, temporary: false, timeout: false, fault: false };
}

/** `body.spec.nodes[0].name` from a zod path under a request part. */
export function goaPath(target: string, path: readonly PropertyKey[]): string {
  const root = target === 'json' ? 'body' : '';
  let out = root;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

type Issue = z.core.$ZodIssue;

/** One zod issue in Goa's vocabulary; app-level (`custom`) issues are invalid_input instead. */
export function goaIssue(target: string, issue: Issue): { name: GoaErrorName; message: string } {
  const where = goaPath(target, issue.path);
  const last = issue.path[issue.path.length - 1];
  switch (issue.code) {
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) {
        const parent = goaPath(target, issue.path.slice(0, -1)) || target;
        return { name: 'missing_field', message: `"${String(last)}" is missing from ${parent}` };
      }
      return { name: 'invalid_field_type', message: `${where} must be of type ${issue.expected}` };
    case 'too_big':
    case 'too_small': {
      const bound = issue.code === 'too_big' ? `lesser or equal than ${issue.maximum}` : `greater or equal than ${issue.minimum}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return { name: 'invalid_range', message: `${where} must be ${bound}` };
      }
      return { name: 'invalid_length', message: `length of ${where} must be ${bound}` };
    }
    case 'invalid_format':
      if (issue.format === 'regex') {
        const pattern = String((issue as { pattern?: string }).pattern ?? '').replace(/^\/(.*)\/[a-z]*$/, '$1');
        return { name: 'invalid_pattern', message: `${where} must match the regexp "${pattern}"` };
      }
      return { name: 'invalid_format', message: `${where} must be formatted as a ${issue.format}` };
    case 'invalid_value':
      return { name: 'invalid_enum_value', message: `value of ${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { name: 'invalid_field_type', message: `${where}: ${issue.message}` };
  }
}

/** A failed zod validation as pgEdge's body: app-level messages as invalid_input, the rest as one merged Goa error. */
export function validationErrorBody(target: string, error: z.ZodError): { name: 'invalid_input'; message: string } | GoaErrorBody {
  // Goa's schema checks (length, type, enum…) run before the app's own rules, so they win when both fail.
  const custom = error.issues.filter((i) => i.code === 'custom');
  if (custom.length === error.issues.length) {
    // App-level paths are relative to the spec, as the reference's ("nodes[1].host_ids[0]: …").
    const relative = (p: readonly PropertyKey[]) => (p[0] === 'spec' ? p.slice(1) : p);
    const msg = custom.map((i) => (i.path.length ? `${goaPath('', relative(i.path))}: ${i.message}` : i.message)).join('\n');
    return { name: 'invalid_input', message: msg };
  }
  const mapped = error.issues.filter((i) => i.code !== 'custom').map((i) => goaIssue(target, i));
  const first = mapped[0] ?? { name: 'invalid_field_type' as const, message: 'invalid request' };
  return goaError(first.name, mapped.map((m) => m.message).join('; '));
}

/** Renders a failed zod validation (always a 400). */
export function validationResponse(c: Context, target: string, error: z.ZodError): Response {
  const body = validationErrorBody(target, error);
  return c.json(body, 400, { 'goa-error': body.name });
}

export function renderError(c: Context, err: unknown, log: Logger): Response {
  if (err instanceof ApiError) {
    return c.json({ name: err.errorName, message: err.message }, err.status, { 'goa-error': err.errorName });
  }
  if (err instanceof HTTPException && err.status < 500) {
    // e.g. 415 when a body is not sent as application/json: the client's mistake, said as such
    const body = goaError('decode_payload', err.status === 415 ? 'the request body must be sent with Content-Type: application/json' : err.message);
    return c.json(body, err.status, { 'goa-error': body.name });
  }
  const requestId = (c.get('requestId' as never) as string | undefined) ?? randomBytes(6).toString('hex');
  log.error({ err, requestId, method: c.req.method, path: c.req.path }, 'unhandled error');
  return c.json({ name: 'server_error', message: `internal error (request ${requestId})` }, 500, { 'goa-error': 'server_error' });
}
