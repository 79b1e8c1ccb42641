// The SDK's errors. Every refusal — over REST or through the Temporal trigger — is a PgcpApiError carrying the
// reference's error name (`errorName`: invalid_input, not_found, database_not_modifiable, … and Goa's request
// validation names), so a program branches on the same names whichever way it started the operation.
import type { ApiErrorName, GoaErrorName } from '../api/errors.js';

export type PgcpErrorName = ApiErrorName | GoaErrorName | 'fault';

export class PgcpApiError extends Error {
  override readonly name = 'PgcpApiError';
  constructor(
    /** The reference's error name, as the API's `name` field and goa-error header say it. */
    readonly errorName: PgcpErrorName,
    message: string,
    /** The HTTP status the API answers (or would answer) with. */
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** A task that ended without completing: failed or canceled. */
export class PgcpTaskError extends Error {
  override readonly name = 'PgcpTaskError';
  constructor(readonly task: { task_id: string; status: string; error?: string }) {
    super(`task ${task.task_id} ${task.status}${task.error ? `: ${task.error}` : ''}`);
  }
}

export function isPgcpError(err: unknown, errorName?: PgcpErrorName): err is PgcpApiError {
  return err instanceof PgcpApiError && (errorName === undefined || err.errorName === errorName);
}

/** An error response body → PgcpApiError (both of the API's error bodies have `name` and `message`). */
export function toPgcpError(status: number, body: unknown): PgcpApiError {
  const b = (body ?? {}) as { name?: unknown; message?: unknown };
  const name = typeof b.name === 'string' ? b.name : status >= 500 ? 'server_error' : 'invalid_input';
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  return new PgcpApiError(name as PgcpErrorName, message, status, body);
}
