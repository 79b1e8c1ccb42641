// Which failures are worth retrying. Permanent ones become non-retryable ApplicationFailures with a type the
// workflow can read; transient ones stay plain errors and are retried by the activity's retry policy.
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { redactSecrets } from '../workflows/model/redact.js';

export const FailureType = {
  imageMissing: 'ImageMissing',
  invalidSpec: 'InvalidSpec',
  notFound: 'NotFound',
  replication: 'Replication',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export function permanent(type: FailureTypeName, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * Error texts reach the workflow history and the task log. Postgres and pglogical quote connection strings in
 * some errors, so every host activity's error passes through redactSecrets first.
 */
export function withRedactedErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        // A cancellation must reach the SDK as such, or the task would end failed instead of canceled.
        if (err instanceof CancelledFailure || (err instanceof Error && err.name === 'AbortError')) throw err;
        if (err instanceof ApplicationFailure) {
          throw ApplicationFailure.create({ message: redactSecrets(err.message), type: err.type ?? undefined, nonRetryable: err.nonRetryable ?? false, details: err.details as unknown[] });
        }
        if (err instanceof Error) {
          const safe = new Error(redactSecrets(err.message));
          safe.name = err.name;
          throw safe;
        }
        throw err;
      }
    };
  }
  return out as T;
}
