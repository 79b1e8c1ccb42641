// The services the control plane stands on — Temporal dev server, etcd, the store Postgres — started on loopback
// with their data under .data/. Used by `npm start` and by the test harness (which may reuse a running stack).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dockerBridgeAddress, loadConfig, portNames, projectRoot, stackPorts } from '../platform/config.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { ensureNamespace } from '../platform/temporal.js';
import { isPortOpen, spawnManaged, waitFor } from './processes.js';

export { portNames, stackPorts };

export const temporalBin = path.join(os.homedir(), '.cache', 'pgcp', 'bin', 'temporal');
export const storeUser = 'pgcp';

export interface StackService { name: string; reused: boolean; stop: () => Promise<void> }

/** Names every needed port that something already listens on. */
export async function takenPorts(ports: Record<string, number>): Promise<string[]> {
  const out: string[] = [];
  for (const [key, port] of Object.entries(ports)) {
    if (await isPortOpen(port)) out.push(`port ${port} (${portNames[key] ?? key}) is already in use`);
  }
  return out;
}

function pgBinDir(): string {
  const majors = readdirSync('/usr/lib/postgresql').filter((d) => existsSync(`/usr/lib/postgresql/${d}/bin/postgres`));
  const best = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!best) throw new Error('no Postgres server under /usr/lib/postgresql: run npm run setup');
  return `/usr/lib/postgresql/${best}/bin`;
}

const runningAsRoot = () => process.getuid?.() === 0;

/** Postgres refuses to run as root; as root, run it as the `postgres` user on a directory it owns. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args]] : [cmd, args];
}

function chownToPostgres(dir: string): void {
  if (!runningAsRoot()) return;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('user postgres is missing: run npm run setup');
  const [, , uid, gid] = line.split(':');
  chownSync(dir, Number(uid), Number(gid));
}

export function storeUrl(database: string): string {
  return `postgres://${storeUser}@127.0.0.1:${stackPorts.store}/${database}`;
}

/** Creates a store database if missing (the API, workers and tests each migrate their own). */
export async function ensureStoreDatabase(database: string): Promise<void> {
  const client = new pg.Client({ connectionString: storeUrl('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

async function startStore(dataDir: string, logDir: string): Promise<StackService> {
  const pgdata = path.join(dataDir, 'store');
  const bin = pgBinDir();
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    mkdirSync(pgdata, { recursive: true, mode: 0o700 });
    chownToPostgres(pgdata);
    const [cmd, args] = asPostgres(`${bin}/initdb`, ['-D', pgdata, '-U', storeUser, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
    execFileSync(cmd, args, { stdio: 'ignore' });
  }
  const [cmd, args] = asPostgres(`${bin}/postgres`, [
    '-D', pgdata, '-p', String(stackPorts.store), '-c', 'listen_addresses=127.0.0.1', '-k', pgdata, '-c', 'max_connections=200',
  ]);
  const proc = spawnManaged('store', cmd, args, { logDir });
  await waitFor('store Postgres', async () => {
    const c = new pg.Client({ connectionString: storeUrl('postgres') });
    try { await c.connect(); return true; } finally { await c.end().catch(() => undefined); }
  }, 30_000, proc.child);
  return { name: 'store', reused: false, stop: proc.stop };
}

async function startEtcd(dataDir: string, logDir: string): Promise<StackService> {
  const bridge = dockerBridgeAddress();
  const clientUrls = [`http://127.0.0.1:${stackPorts.etcd}`, ...(bridge ? [`http://${bridge}:${stackPorts.etcd}`] : [])];
  const peer = `http://127.0.0.1:${stackPorts.etcdPeer}`;
  const proc = spawnManaged('etcd', 'etcd', [
    '--name', 'pgcp', '--data-dir', path.join(dataDir, 'etcd'),
    '--listen-client-urls', clientUrls.join(','), '--advertise-client-urls', clientUrls[0]!,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `pgcp=${peer}`,
    '--log-level', 'warn', '--logger', 'zap',
  ], { logDir });
  await waitFor('etcd', async () => {
    const res = await fetch(`http://127.0.0.1:${stackPorts.etcd}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  }, 30_000, proc.child);
  return { name: 'etcd', reused: false, stop: proc.stop };
}

/**
 * The payload codec server (scripts/codec-server.ts) with the stack's key: the Temporal UI decodes payloads through
 * it (--ui-codec-endpoint), for whoever can open the UI on this machine.
 */
async function startCodec(dataDir: string, logDir: string): Promise<StackService> {
  const proc = spawnManaged('codec', process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'codec-server.ts')], {
    logDir, cwd: projectRoot, env: { ...process.env, PGCP_DATA_DIR: dataDir, PGCP_CODEC_PORT: String(stackPorts.codec) },
  });
  await waitFor('payload codec server', () => isPortOpen(stackPorts.codec), 30_000, proc.child);
  return { name: 'codec', reused: false, stop: proc.stop };
}

export const codecEndpoint = `http://127.0.0.1:${stackPorts.codec}`;

async function startTemporal(dataDir: string, logDir: string): Promise<StackService> {
  if (!existsSync(temporalBin)) throw new Error(`Temporal CLI missing at ${temporalBin}: run npm run setup`);
  mkdirSync(path.join(dataDir, 'temporal'), { recursive: true });
  const proc = spawnManaged('temporal', temporalBin, [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(stackPorts.temporal), '--ui-port', String(stackPorts.temporalUi),
    '--ui-codec-endpoint', codecEndpoint,
    '--db-filename', path.join(dataDir, 'temporal', 'temporal.db'), '--log-level', 'warn',
  ], { logDir });
  await waitFor('Temporal', async () => (await isPortOpen(stackPorts.temporal)) && (await isPortOpen(stackPorts.temporalUi)), 60_000, proc.child);
  return { name: 'temporal', reused: false, stop: proc.stop };
}

export interface StartStackOptions {
  dataDir: string;
  /** Reuse a service whose port already answers (tests); otherwise a taken port is an error (npm start). */
  reuse: boolean;
  namespaces: string[];
  storeDatabases: string[];
}

/** Starts (or reuses) every service; on failure stops what it started. Returns them in stop order. */
export async function startStack(opts: StartStackOptions): Promise<StackService[]> {
  const logDir = path.join(opts.dataDir, 'logs');
  mkdirSync(opts.dataDir, { recursive: true });
  // the control plane's key, made here at first start unless the operator gives one (platform/secret-key.ts)
  loadSecretKey(loadConfig({ ...process.env, PGCP_DATA_DIR: opts.dataDir }).secretKey);
  const started: StackService[] = [];
  const steps: [string, number, () => Promise<StackService>][] = [
    ['store', stackPorts.store, () => startStore(opts.dataDir, logDir)],
    ['etcd', stackPorts.etcd, () => startEtcd(opts.dataDir, logDir)],
    ['codec', stackPorts.codec, () => startCodec(opts.dataDir, logDir)],
    ['temporal', stackPorts.temporal, () => startTemporal(opts.dataDir, logDir)],
  ];
  try {
    for (const [name, port, start] of steps) {
      if (await isPortOpen(port)) {
        if (!opts.reuse) throw new Error(`port ${port} (${portNames[name]}) is already in use`);
        started.unshift({ name, reused: true, stop: async () => undefined });
      } else {
        started.unshift(await start());
      }
    }
    for (const db of opts.storeDatabases) await ensureStoreDatabase(db);
    for (const ns of opts.namespaces) await ensureNamespace(`127.0.0.1:${stackPorts.temporal}`, ns);
    return started;
  } catch (err) {
    await stopStack(started);
    throw err;
  }
}

export async function stopStack(services: StackService[]): Promise<void> {
  for (const s of services) await s.stop();
}
