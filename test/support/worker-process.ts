// The worker as its own process, for tests that SIGKILL it: same environment as the in-process test workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { projectRoot } from '../../platform/config.js';
import { testSecretKeyFile } from './secret-key.js';

/**
 * hostOnly: a further host joining the cluster (no control-plane queue), as `npm start -- --hosts` runs it;
 * controlPlaneOnly: the control-plane worker alone (the production stack's worker service). env:
 * more of the agent's configuration (a simulated machine's address and Docker endpoint); logFile: its output.
 */
export function startWorkerProcess(storeUrl: string, hostId = 'host-1', o: { hostOnly?: boolean; controlPlaneOnly?: boolean; env?: Record<string, string>; logFile?: string } = {}): ChildProcess {
  const stack = inject('stack');
  const out = o.logFile ? openSync(o.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'worker', 'main.ts'), ...(o.hostOnly ? ['--host-only'] : []), ...(o.controlPlaneOnly ? ['--control-plane-only'] : [])], {
    cwd: projectRoot,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      PGCP_HOST_ID: hostId, PGCP_NAMESPACE: stack.namespace, PGCP_STORE_URL: storeUrl, PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile, PGCP_ETCD_CA_FILE: stack.etcdCaFile,
      PGCP_TEMPORAL_ADDRESS: stack.temporalAddress, PGCP_DATA_DIR: path.join(projectRoot, '.data', 'test-stack', 'hosts', hostId),
      PGCP_HEARTBEAT_MS: '1000', PGCP_MONITOR_MS: '1000', PGCP_LOG_LEVEL: process.env.PGCP_TEST_LOG_LEVEL ?? 'warn',
      PGCP_SECRET_KEY_FILE: testSecretKeyFile,
      ...o.env,
    },
  });
  if (typeof out === 'number') closeSync(out);
  return child;
}

export async function killWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGKILL');
  await exited;
}
