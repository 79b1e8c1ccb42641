// Every activity, grouped by the queue that runs it. Host activities touch this host's Docker engine.
import type Docker from 'dockerode';
import { verifyImageActivities } from './docker/verify-image.js';

export interface HostActivityDeps { docker: Docker; hostId: string }

export function createHostActivities(deps: HostActivityDeps) {
  return {
    ...verifyImageActivities(deps.docker, deps.hostId),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
