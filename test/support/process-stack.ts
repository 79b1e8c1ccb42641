// The API in the test process over workers in child processes, one per host (the first also runs the control-plane
// queue), so a test can SIGKILL a worker and start it again, or run several hosts as `npm start -- --hosts` does.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect, inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { testTemporalClient } from './secret-key.js';
import { apiClient, type ApiCall } from './api-client.js';
import { createTestApp, type TestApp } from './app.js';
import { waitFor } from './wait.js';
import { killWorker, startWorkerProcess } from './worker-process.js';

export interface ProcessStack extends TestApp {
  temporal: Client;
  call: ApiCall;
  /** SIGKILLs the host's worker process and starts a new one (with more environment, e.g. PGCP_FAST_FAILOVER). */
  restartWorker: (hostId?: string, env?: Record<string, string>) => Promise<void>;
  /** SIGKILLs every worker process (the control plane and the agents): nothing of the control plane acts until startWorkers. */
  stopWorkers: () => Promise<void>;
  startWorkers: () => void;
  stop: () => Promise<void>;
}

/** PGCP_TEST_LOG_DIR: each worker process's output goes to <dir>/<host>.log (appended), to read after a failure. */
const logFileOf = (hostId: string) => (process.env.PGCP_TEST_LOG_DIR ? { logFile: path.join(process.env.PGCP_TEST_LOG_DIR, `${hostId}.log`) } : {});

/** Initializes the cluster, starts a worker per host and waits until every host reports healthy. */
export async function startProcessStack(hostIds = ['host-1']): Promise<ProcessStack> {
  const stack = inject('stack');
  const temporal = await testTemporalClient(stack.temporalAddress, stack.namespace);
  const t = await createTestApp({ temporal });
  const call = apiClient(t.app);
  const workers = new Map<string, ChildProcess>();
  const start = (hostId: string, env?: Record<string, string>) => workers.set(hostId, startWorkerProcess(t.db.url, hostId, { hostOnly: hostId !== hostIds[0], ...(env ? { env } : {}), ...logFileOf(hostId) }));
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  hostIds.forEach((h) => start(h));
  await waitFor(`${hostIds.join(', ')} healthy`, async () => {
    const hosts = (await call('GET', '/v1/hosts')).body.hosts as { id: string; status: { state: string } }[];
    return hostIds.every((id) => hosts.some((h) => h.id === id && h.status.state === 'healthy'));
  }, 90_000, 1000);
  return {
    ...t,
    temporal,
    call,
    restartWorker: async (hostId = hostIds[0]!, env?: Record<string, string>) => {
      const worker = workers.get(hostId);
      if (worker) await killWorker(worker);
      start(hostId, env);
    },
    stopWorkers: async () => {
      for (const w of workers.values()) await killWorker(w);
    },
    startWorkers: () => hostIds.forEach((h) => start(h)),
    stop: async () => {
      for (const w of workers.values()) await killWorker(w);
      await temporal.connection.close();
      await t.db.drop();
    },
  };
}
