// Proves the whole chain on one host: for each Postgres major, a host activity starts a container from the built
// image, asks it for version() and removes it.
import { proxyActivities } from '@temporalio/workflow';
import type { HostActivities } from '../../activities/index.js';
import type { VerifyImageResult } from '../../activities/docker/verify-image.js';
import { taskQueues } from '../model/search-attributes.js';

export interface VerifyImagesInput { hostId: string; majors: string[] }
export interface VerifyImagesResult { results: VerifyImageResult[] }

export async function verifyImages(input: VerifyImagesInput): Promise<VerifyImagesResult> {
  const host = proxyActivities<HostActivities>({
    taskQueue: taskQueues.host(input.hostId),
    startToCloseTimeout: '3 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3, initialInterval: '1 second' },
  });
  const results: VerifyImageResult[] = [];
  for (const major of input.majors) {
    results.push(await host.verifyImage({ major }));
  }
  return { results };
}
