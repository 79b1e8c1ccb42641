// Builds the Temporal workers of one host process: the shared control-plane queue (workflows and host-independent
// activities) and this host's own queue (its Docker engine).
import path from 'node:path';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerPlugin, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ControlPlaneDeps, HostDeps } from '../activities/deps.js';
import { createControlPlaneActivities, createHostActivities } from '../activities/index.js';
import { taskQueues } from '../workflows/model/search-attributes.js';
import { projectRoot } from '../platform/config.js';
import { dataConverter } from '../platform/payload-codec.js';

export const workflowsPath = path.join(projectRoot, 'workflows', 'index.ts');

/** plugins: their workflow interceptors go into the bundle (tracing's, when it is on). */
export function bundleWorkflows(plugins?: WorkerPlugin[]): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} }, ...(plugins ? { plugins } : {}) });
}

/** Heartbeats reach the server within a second or two, so a cancelled task's steps learn of it that fast. */
export const hostWorkerTuning = { defaultHeartbeatThrottleInterval: '1 second', maxHeartbeatThrottleInterval: '2 seconds' } as const;

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  host: HostDeps;
  controlPlane: ControlPlaneDeps;
  roles: { controlPlane: boolean; host: boolean };
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** The control plane's key: payloads are encrypted with it (platform/payload-codec.ts). */
  secretKey: Buffer;
  /** Worker plugins (platform/tracing.ts's OpenTelemetry plugin); a given workflowBundle must have been bundled with them. */
  plugins?: WorkerPlugin[];
}

export async function createWorkers(opts: WorkerOptions): Promise<Worker[]> {
  const workers: Worker[] = [];
  if (opts.roles.controlPlane) {
    workers.push(await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      dataConverter: dataConverter(opts.secretKey),
      taskQueue: taskQueues.controlPlane,
      workflowBundle: opts.workflowBundle ?? (await bundleWorkflows(opts.plugins)),
      activities: createControlPlaneActivities(opts.controlPlane),
      ...(opts.plugins ? { plugins: opts.plugins } : {}),
    }));
  }
  if (opts.roles.host) {
    workers.push(await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      dataConverter: dataConverter(opts.secretKey),
      taskQueue: taskQueues.host(opts.host.hostId),
      activities: createHostActivities(opts.host),
      ...hostWorkerTuning,
      ...(opts.plugins ? { plugins: opts.plugins } : {}),
    }));
  }
  return workers;
}
