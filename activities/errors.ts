// Which failures are worth retrying. Permanent ones become non-retryable ApplicationFailures with a type the
// workflow can read; transient ones stay plain errors and are retried by the activity's retry policy.
import { ApplicationFailure } from '@temporalio/activity';

export const FailureType = {
  imageMissing: 'ImageMissing',
  invalidSpec: 'InvalidSpec',
  notFound: 'NotFound',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export function permanent(type: FailureTypeName, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}
