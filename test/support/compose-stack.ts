// The production stack (docker-compose.yml) brought up as its own compose project on free ports, with its own host
// data directory, and taken down again with `docker-compose down -v`. Used by the compose test and the benchmark;
// it needs what `scripts/setup.sh --compose` makes (.env, base images, secrets).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createDocker } from '../../activities/docker/client.js';
import { dockerBridgeAddress, projectRoot } from '../../platform/config.js';

const run = promisify(execFile);

export interface ComposeStack {
  project: string;
  apiUrl: string;
  uiUrl: string;
  /** etcd as the instance containers reach it (the docker0 address), over TLS with the stack's CA (etcdCa, PEM). */
  etcdUrl: string;
  etcdCa: string;
  call: (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;
  /** docker-compose logs of some services (for a failure message). */
  logs: (...services: string[]) => Promise<string>;
  /** `docker-compose down -v`; returns what is left of the project (containers, volumes, networks), by label. */
  down: () => Promise<{ containers: string[]; volumes: string[]; networks: string[] }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function leftovers(project: string) {
  const docker = createDocker();
  const filters = JSON.stringify({ label: [`com.docker.compose.project=${project}`] });
  const [containers, volumes, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listVolumes({ filters }), docker.listNetworks({ filters })]);
  return { containers: containers.map((c) => c.Names[0]!), volumes: (volumes.Volumes ?? []).map((v) => v.Name), networks: networks.map((n) => n.Name) };
}

export async function composeUp(project: string): Promise<ComposeStack & { upMs: number }> {
  const ports = { api: await freePort(), ui: await freePort(), temporal: await freePort(), store: await freePort(), etcd: await freePort(), codec: await freePort() };
  const dataDir = path.join(projectRoot, '.data', 'compose', project);
  mkdirSync(dataDir, { recursive: true });
  const env = {
    ...process.env, COMPOSE_PROJECT_NAME: project, PGCP_HOST_DATA_DIR: dataDir,
    PGCP_API_PORT: String(ports.api), PGCP_TEMPORAL_UI_PORT: String(ports.ui), PGCP_TEMPORAL_PORT: String(ports.temporal),
    PGCP_STORE_PORT: String(ports.store), PGCP_ETCD_PORT: String(ports.etcd),
    PGCP_CODEC_PORT: String(ports.codec), PGCP_CODEC_URL: `http://127.0.0.1:${ports.codec}`,
  };
  const compose = (...args: string[]) => run('docker-compose', args, { cwd: projectRoot, env, maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
  const logs = async (...services: string[]) => (await compose('logs', '--no-color', '--tail=40', ...services).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout;
  const down = async () => {
    await compose('down', '-v', '--remove-orphans');
    rmSync(dataDir, { recursive: true, force: true });
    return leftovers(project);
  };
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const t0 = performance.now();
  try {
    await compose('up', '-d', '--build');
    const deadline = Date.now() + 5 * 60_000;
    while ((await fetch(`${apiUrl}/v1/version`).catch(() => null))?.ok !== true) {
      if (Date.now() > deadline) throw new Error(`the compose API did not answer at ${apiUrl}:\n${await logs()}`);
      await sleep(500);
    }
  } catch (err) {
    const text = `${(err as Error).message}\n${await logs()}`;
    await down().catch(() => undefined);
    throw new Error(text, { cause: err });
  }
  const upMs = performance.now() - t0;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${url}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  return { project, apiUrl, uiUrl: `http://127.0.0.1:${ports.ui}`, etcdUrl: `https://${dockerBridgeAddress() ?? '172.17.0.1'}:${ports.etcd}`,
    etcdCa: readFileSync(path.join(process.env.PGCP_SECRETS_DIR ?? path.join(projectRoot, '.data', 'compose', 'secrets'), 'pki', 'ca.crt'), 'utf8'), call, logs, down, upMs };
}
