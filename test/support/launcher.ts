// `npm start`'s launcher (scripts/start.ts) as a child of the test, over the test stack (--reuse-stack), with its
// own store database, API port and data directory. Its stdout lines say which process started or exited with
// which pid: the tests read them to kill a worker and to check that nothing else was restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { inject } from 'vitest';
import { projectRoot } from '../../platform/config.js';
import { waitFor } from './wait.js';
import { testSecretKeyFile } from './secret-key.js';

export interface Launcher {
  apiUrl: string;
  dataDir: string;
  /** Every stdout line so far. */
  lines: string[];
  /** Pids each supervised process was started with, in order. */
  pids: (name: string) => number[];
  call: (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;
  stop: () => Promise<void>;
}

export async function startLauncher(o: { storeUrl: string; hosts: string; apiPort: number; name: string }): Promise<Launcher> {
  const stack = inject('stack');
  const dataDir = path.join(projectRoot, '.data', 'test-stack', o.name);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'start.ts'), '--reuse-stack', '--hosts', o.hosts], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PGCP_NAMESPACE: stack.namespace, PGCP_STORE_URL: o.storeUrl, PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile, PGCP_ETCD_CA_FILE: stack.etcdCaFile, PGCP_TEMPORAL_ADDRESS: stack.temporalAddress,
      PGCP_API_PORT: String(o.apiPort), PGCP_DATA_DIR: dataDir, PGCP_HEARTBEAT_MS: '1000', PGCP_MONITOR_MS: '1000',
      PGCP_SECRET_KEY_FILE: testSecretKeyFile, // the test store's secrets are sealed with it
    },
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  await waitFor('the launcher to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`launcher exited: ${lines.join('\n')}`);
    return lines.some((l) => l.startsWith('control plane ready'));
  }, 120_000, 250);
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${url}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    apiUrl, dataDir, lines, call,
    pids: (name) => lines.flatMap((l) => {
      const m = new RegExp(` ${name} started \\(pid (\\d+)\\)$`).exec(l);
      return m ? [Number(m[1])] : [];
    }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
