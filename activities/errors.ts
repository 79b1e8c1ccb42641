// Which activity failures are worth retrying, decided in one place (toFailure). Permanent ones become
// non-retryable ApplicationFailures typed with the FailureType vocabulary, so the workflow (and the task log) can
// tell what went wrong; transient ones stay plain errors and are retried by the activity's retry policy. Every host
// and control-plane activity passes its errors through withActivityErrors, which also removes secrets from them.
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import pg from 'pg';
import { redactSecrets } from '../workflows/model/redact.js';

/** What a permanent failure is; an activity throws one of these through permanent(), or toFailure finds it. */
export const FailureType = {
  /** The spec asks for something that cannot be (the user changes the spec). */
  invalidSpec: 'InvalidSpec',
  /** An object the request names does not exist (database, instance, container, restore source). */
  notFound: 'NotFound',
  /** The Postgres image is not in the version manifest or not built on this host. */
  imageMissing: 'ImageMissing',
  /** The replication layer cannot go on (a copy that stopped, a position the restored data lacks). */
  replication: 'Replication',
  /** The current state forbids the operation (no running primary, a healthy node, a stopped instance…). */
  refused: 'Refused',
  /** The instance a step was to act on no longer leads its node (a failover came between): the workflow finds the primary again. */
  primaryChanged: 'PrimaryChanged',
  /** Something else already holds the name or the port. */
  conflict: 'Conflict',
  /** The installation or a request does not fit together (wrong host, credentials, SQL the server rejects). */
  misconfigured: 'Misconfigured',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export function permanent(type: FailureTypeName, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

const isObject = (err: unknown): err is Record<string, unknown> => typeof err === 'object' && err !== null;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The SQLSTATE of an error the server sent (pg's DatabaseError). */
function sqlState(err: unknown): string | null {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' ? err.code : null;
}

/** A Docker Engine API error (docker-modem): the HTTP status of the engine's answer. */
function dockerStatus(err: unknown): number | null {
  return isObject(err) && typeof err.statusCode === 'number' ? err.statusCode : null;
}

/** Class 42 SQLSTATEs that say an object already exists. */
const duplicateObject = ['42P03', '42P04', '42P05', '42P06', '42P07', '42710', '42712', '42723'];

/**
 * The permanent failure type of an error, or null when it is worth retrying (or unknown: retried, as before).
 * Transient on purpose: Postgres 08 (connection), 53 (resources: 53300 too many connections), 57P0x (shutting
 * down, starting up: 57P03), 40 (serialization), 55 (object in use); Docker 5xx and the 409s of work in progress;
 * network errors (ECONNREFUSED…).
 */
export function permanentType(err: unknown): FailureTypeName | null {
  const state = sqlState(err);
  if (state) {
    if (duplicateObject.includes(state)) return FailureType.conflict;
    if (state.startsWith('42') || state.startsWith('28')) return FailureType.misconfigured; // syntax, undefined object, privilege; authentication
    return null;
  }
  const status = dockerStatus(err);
  const text = messageOf(err);
  if (/port is already allocated|address already in use/i.test(text)) return FailureType.conflict;
  if (status === 404 && /no such image/i.test(text)) return FailureType.imageMissing;
  if (/bind source path does not exist/i.test(text)) return FailureType.misconfigured; // an extra_volumes host_path to make first
  if (status === 404 && /no such container/i.test(text)) return FailureType.notFound;
  if (status === 409 && /is already in use/i.test(text)) return FailureType.conflict; // a name another object holds
  return null;
}

/**
 * The error an activity throws for `err`: cancellations and ApplicationFailures as they are (the thrower decided),
 * known permanent errors as non-retryable ApplicationFailures of their type, anything else unchanged (retried).
 */
export function toFailure(err: unknown): unknown {
  // A cancellation must reach the SDK as such, or the task would end failed instead of canceled.
  if (err instanceof CancelledFailure || (err instanceof Error && err.name === 'AbortError')) return err;
  if (err instanceof ApplicationFailure) return err;
  const type = permanentType(err);
  return type ? ApplicationFailure.create({ message: messageOf(err), type, nonRetryable: true }) : err;
}

/**
 * Error texts reach the workflow history and the task log. Postgres and pglogical quote connection strings in
 * some errors, so the message is passed through redactSecrets.
 */
function redacted(err: unknown): unknown {
  if (err instanceof CancelledFailure || (err instanceof Error && err.name === 'AbortError')) return err;
  if (err instanceof ApplicationFailure) {
    return ApplicationFailure.create({ message: redactSecrets(err.message), type: err.type ?? undefined, nonRetryable: err.nonRetryable ?? false, details: err.details as unknown[] });
  }
  if (err instanceof Error) {
    const safe = new Error(redactSecrets(err.message));
    safe.name = err.name;
    return safe;
  }
  return err;
}

/** Every activity of the group with its errors classified (toFailure) and their secrets removed. */
export function withActivityErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw redacted(toFailure(err));
      }
    };
  }
  return out as T;
}
