// The services the control plane stands on — Temporal dev server, etcd, the store Postgres — started on loopback
// with their data under .data/. Used by `npm start` and by the test harness (which may reuse a running stack).
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureEtcdAuth, etcdPost, type EtcdCredentials } from '../activities/etcd.js';
import { caFiles, describeCertificate, ensureCa, ensureCertificate, issueCertificate, loopbackNames, type CertFiles } from '../platform/pki.js';
import { dockerBridgeAddress, loadConfig, portNames, projectRoot, secretFiles, stackPorts } from '../platform/config.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { ensureNamespace } from '../platform/temporal.js';
import { isPortOpen, superviseManaged, waitFor, type Supervised } from './processes.js';

export { portNames, stackPorts };

export const temporalBin = path.join(os.homedir(), '.cache', 'pgcp', 'bin', 'temporal');
/**
 * etcd 3.5 built by scripts/setup.sh from Go modules (scripts/etcd): it hashes a user's password before its raft log,
 * where Debian's 3.4 writes it in clear into its WAL. Debian's is the fallback when it is not built.
 */
export const etcdBin = process.env.PGCP_ETCD_BIN ?? [path.join(os.homedir(), '.cache', 'pgcp', 'bin', 'etcd')].find((f) => existsSync(f)) ?? 'etcd';
export const storeUser = 'pgcp';

export interface StackService { name: string; reused: boolean; stop: () => Promise<void> }

/**
 * How the stack's own processes are run: supervised (scripts/processes.ts), so a Temporal server, etcd, store or codec
 * server that dies (a crash, `kill -9`) is started again on the same data — the dev server keeps its workflows in its
 * SQLite file, so running tasks go on. `report` gets one line per start and exit ("temporal started (pid N)").
 */
interface Run { logDir: string; report: (line: string) => void }
const supervise = (name: string, command: string, args: string[], run: Run, o: { env?: NodeJS.ProcessEnv; cwd?: string; umask?: number } = {}) =>
  superviseManaged(name, command, args, { logDir: run.logDir, report: run.report, ...o });

/** Waits until a service is ready; one that is not is stopped (not restarted again and again) and the error thrown. */
async function ready(proc: Supervised, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await waitFor(what, check, timeoutMs, proc.child);
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Names every needed port that something already listens on. */
export async function takenPorts(ports: Record<string, number>): Promise<string[]> {
  const out: string[] = [];
  for (const [key, port] of Object.entries(ports)) {
    if (await isPortOpen(port)) out.push(`port ${port} (${portNames[key] ?? key}) is already in use`);
  }
  return out;
}

export function pgBinDir(): string {
  const majors = readdirSync('/usr/lib/postgresql').filter((d) => existsSync(`/usr/lib/postgresql/${d}/bin/postgres`));
  const best = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!best) throw new Error('no Postgres server under /usr/lib/postgresql: run npm run setup');
  return `/usr/lib/postgresql/${best}/bin`;
}

const runningAsRoot = () => process.getuid?.() === 0;

/** Postgres refuses to run as root; as root, run it as the `postgres` user on a directory it owns. */
export function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args]] : [cmd, args];
}

export function chownToPostgres(dir: string): void {
  if (!runningAsRoot()) return;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('user postgres is missing: run npm run setup');
  const [, , uid, gid] = line.split(':');
  chownSync(dir, Number(uid), Number(gid));
}

/** The stack's own data directory (`npm start`); tests run theirs under it. */
export const defaultDataDir = path.join(projectRoot, '.data');

/** A generated secret kept in a 0600 file (in a 0700 directory): made once, read on every later start. */
export function ensureSecretFile(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(file), 0o700);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/**
 * The store URL of a database, with the store's password (from the stack's 0600 file under `dataDir`). Pass it to
 * processes in their environment; never print it.
 */
export function storeUrl(database: string, dataDir = defaultDataDir): string {
  const file = secretFiles(dataDir).store;
  const password = existsSync(file) ? `:${encodeURIComponent(readFileSync(file, 'utf8').trim())}` : '';
  return `postgres://${storeUser}${password}@127.0.0.1:${stackPorts.store}/${database}`;
}

/** Where the credentials of a stack are: its own data directory, or (a reused `npm start` stack) the default one. */
export function stackSecretsDir(dataDir: string): string {
  return existsSync(secretFiles(dataDir).store) ? dataDir : defaultDataDir;
}

/** etcd's root credential of the stack under `dataDir` (null before its first start). */
export function etcdRootCredentials(dataDir = defaultDataDir): EtcdCredentials | null {
  const file = secretFiles(dataDir).etcdRoot;
  return existsSync(file) ? { user: 'root', password: readFileSync(file, 'utf8').trim() } : null;
}

/** Postgres's SCRAM-SHA-256 verifier of a password (what `ALTER ROLE … PASSWORD` stores), so the clear text is never sent. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The store's client authentication rules: TCP on loopback with the password (scram-sha-256; no local socket exists,
 * no trust or md5 rule), and — when the store speaks TLS — only over TLS: a plain connection is rejected.
 */
export function storeHba(tls: boolean): string {
  return tls
    ? '# pgcp: the store is reached over TLS on loopback, with the password only (scripts/stack.ts)\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n'
    : '# pgcp: the store is reached over TCP on loopback, with the password only (scripts/stack.ts)\nhost all all 127.0.0.1/32 scram-sha-256\n';
}

/** How the stack's own admin connections reach its store: over TLS when it speaks TLS (loopback, the server it started). */
const adminSsl = (tls: boolean) => (tls ? { rejectUnauthorized: false } : undefined);

/** Creates a store database if missing (the API, workers and tests each migrate their own). */
export async function ensureStoreDatabase(database: string, adminUrl = storeUrl('postgres'), tls = false): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, ssl: adminSsl(tls) });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** The store's TLS: a server certificate and key (PEM files, e.g. from platform/pki.ts). */
export interface StoreTls { certFile: string; keyFile: string }

/**
 * Postgres arguments that turn TLS on with this certificate. The pair is copied into the data directory, owned by
 * the server's user and 0600, since Postgres refuses a key others can read (and, run as root, could not read ours).
 * Clients then use `sslmode=verify-full&sslrootcert=<ca.crt>` in PGCP_STORE_URL.
 */
export function storeTlsArgs(pgdata: string, tls: StoreTls): string[] {
  for (const [from, name] of [[tls.certFile, 'server.crt'], [tls.keyFile, 'server.key']] as const) {
    const to = path.join(pgdata, name);
    copyFileSync(from, to);
    chmodSync(to, 0o600);
    chownToPostgres(to);
  }
  return ['-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key', '-c', 'ssl_min_protocol_version=TLSv1.3'];
}

/**
 * The store: scram-sha-256 over TCP on 127.0.0.1 with a generated password (0600 file), no unix socket (nothing to
 * mount or connect to in the file system). A store made by an earlier version (trust, socket in its data directory)
 * gets the password and the rules at its next start.
 */
async function startStore(dataDir: string, run: Run, tls?: StoreTls): Promise<StackService> {
  const pgdata = path.join(dataDir, 'store');
  const bin = pgBinDir();
  const password = ensureSecretFile(secretFiles(dataDir).store);
  const hbaFile = path.join(pgdata, 'pg_hba.conf');
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    mkdirSync(pgdata, { recursive: true, mode: 0o700 });
    chownToPostgres(pgdata);
    // initdb reads the password from a file it can open as postgres: a copy in a private directory, removed after.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgcp-initdb-'));
    const pwfile = path.join(tmp, 'pw');
    try {
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      chownToPostgres(tmp);
      chownToPostgres(pwfile);
      const [cmd, args] = asPostgres(`${bin}/initdb`, ['-D', pgdata, '-U', storeUser, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C.UTF-8']);
      execFileSync(cmd, args, { stdio: 'ignore' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    writeFileSync(hbaFile, storeHba(!!tls));
  }
  const hba = storeHba(!!tls);
  if (readFileSync(hbaFile, 'utf8') !== hba && readFileSync(hbaFile, 'utf8').includes('# pgcp:')) {
    // Our own rules of the other TLS setting: the password is already set, so the new rules apply from the start.
    writeFileSync(hbaFile, hba);
  }
  const [cmd, args] = asPostgres(`${bin}/postgres`, [
    '-D', pgdata, '-p', String(stackPorts.store), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200',
    '-c', 'password_encryption=scram-sha-256',
    ...(tls ? storeTlsArgs(pgdata, tls) : []),
  ]);
  const proc = supervise('store', cmd, args, run, { umask: 0o077 });
  const url = `postgres://${storeUser}:${encodeURIComponent(password)}@127.0.0.1:${stackPorts.store}/postgres`;
  await ready(proc, 'store Postgres', async () => {
    const c = new pg.Client({ connectionString: url, ssl: adminSsl(!!tls) });
    try { await c.connect(); return true; } finally { await c.end().catch(() => undefined); }
  }, 30_000);
  if (readFileSync(hbaFile, 'utf8') !== hba) {
    // An earlier version's trust rules let this connection in whatever its password: set it, then require it.
    const c = new pg.Client({ connectionString: url, ssl: adminSsl(!!tls) });
    await c.connect();
    try {
      await c.query(`ALTER ROLE ${pg.escapeIdentifier(storeUser)} PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
      writeFileSync(hbaFile, hba);
      await c.query('SELECT pg_reload_conf()');
    } finally {
      await c.end();
    }
  }
  return { name: 'store', reused: false, stop: proc.stop };
}

/** The CA of the stack's etcd certificate (the stack's PKI: platform/pki.ts), which its clients and Patroni check. */
export const etcdCaFile = (dataDir: string) => caFiles(path.join(dataDir, 'pki')).cert;

/**
 * etcd's server certificate, signed by the stack's CA (made at first start), for every address its clients dial:
 * loopback, and the docker0 address Patroni in the containers dials. Issued again when that address changed.
 */
export function ensureEtcdCertificate(dataDir: string, bridge: string | null): CertFiles {
  const dir = path.join(dataDir, 'pki');
  ensureCa(dir);
  const hosts = [...loopbackNames, ...(bridge ? [bridge] : [])];
  const o = { kind: 'server' as const, name: 'etcd-server', hosts };
  const files = ensureCertificate(dir, o);
  const san = describeCertificate(files.cert).san ?? '';
  return !bridge || san.includes(`IP Address:${bridge}`) ? files : issueCertificate(dir, o);
}

async function startEtcd(dataDir: string, run: Run): Promise<StackService> {
  const bridge = dockerBridgeAddress();
  // client TLS on every client URL (loopback and docker0); peers stay on loopback (one member)
  const cert = ensureEtcdCertificate(dataDir, bridge);
  const clientUrls = [`https://127.0.0.1:${stackPorts.etcd}`, ...(bridge ? [`https://${bridge}:${stackPorts.etcd}`] : [])];
  const peer = `http://127.0.0.1:${stackPorts.etcdPeer}`;
  const proc = supervise('etcd', etcdBin, [
    '--name', 'pgcp', '--data-dir', path.join(dataDir, 'etcd'),
    '--listen-client-urls', clientUrls.join(','), '--advertise-client-urls', clientUrls[0]!,
    '--cert-file', cert.cert, '--key-file', cert.key,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `pgcp=${peer}`,
    '--log-level', 'warn', '--logger', 'zap',
  ], run, { umask: 0o077 });
  const url = clientUrls[0]!;
  const ca = readFileSync(etcdCaFile(dataDir), 'utf8');
  await ready(proc, 'etcd', async () => {
    const res = await etcdPost(url, '/health', '', {}, ca, 'GET').catch(() => null);
    return res?.ok === true && (JSON.parse(res.text) as { health?: string }).health === 'true';
  }, 30_000);
  // Authentication on, with a root user whose password never leaves this machine's data directory.
  const file = secretFiles(dataDir).etcdRoot;
  await ensureEtcdAuth(url, { user: 'root', password: ensureSecretFile(file) }, file, ca).catch(async (err: unknown) => {
    await proc.stop();
    throw err;
  });
  return { name: 'etcd', reused: false, stop: proc.stop };
}

/**
 * The payload codec server (scripts/codec-server.ts) with the stack's key: the Temporal UI decodes payloads through
 * it (--ui-codec-endpoint), for whoever can open the UI on this machine.
 */
async function startCodec(dataDir: string, run: Run): Promise<StackService> {
  const proc = supervise('codec', process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'codec-server.ts')], run, {
    cwd: projectRoot, env: { ...process.env, PGCP_DATA_DIR: dataDir, PGCP_CODEC_PORT: String(stackPorts.codec) },
  });
  await ready(proc, 'payload codec server', () => isPortOpen(stackPorts.codec), 30_000);
  return { name: 'codec', reused: false, stop: proc.stop };
}

export const codecEndpoint = `http://127.0.0.1:${stackPorts.codec}`;

async function startTemporal(dataDir: string, run: Run): Promise<StackService> {
  if (!existsSync(temporalBin)) throw new Error(`Temporal CLI missing at ${temporalBin}: run npm run setup`);
  const dir = path.join(dataDir, 'temporal');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Its SQLite file holds every workflow's history: the owner's alone (files of an earlier version were 0644).
  chmodSync(dir, 0o700);
  for (const f of readdirSync(dir)) chmodSync(path.join(dir, f), 0o600);
  // --ip 127.0.0.1: the frontend and the UI on loopback only, which containers cannot reach.
  const proc = supervise('temporal', temporalBin, [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(stackPorts.temporal), '--ui-port', String(stackPorts.temporalUi),
    '--ui-codec-endpoint', codecEndpoint,
    '--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'warn',
  ], run, { umask: 0o077 });
  await ready(proc, 'Temporal', async () => (await isPortOpen(stackPorts.temporal)) && (await isPortOpen(stackPorts.temporalUi)), 60_000);
  return { name: 'temporal', reused: false, stop: proc.stop };
}

export interface StartStackOptions {
  dataDir: string;
  /** Reuse a service whose port already answers (tests); otherwise a taken port is an error (npm start). */
  reuse: boolean;
  namespaces: string[];
  storeDatabases: string[];
  /** The store speaks TLS with this certificate (npm start -- --tls). */
  storeTls?: StoreTls;
  /** A store URL with the credentials of a reused store (default: the password file of this stack's data directory). */
  storeUrl?: string;
  /** One line per start and exit of a service process (npm start prints them); default: none. */
  report?: (line: string) => void;
}

/** Starts (or reuses) every service; on failure stops what it started. Returns them in stop order. */
export async function startStack(opts: StartStackOptions): Promise<StackService[]> {
  const logDir = path.join(opts.dataDir, 'logs');
  mkdirSync(opts.dataDir, { recursive: true });
  if (existsSync(logDir)) for (const f of readdirSync(logDir)) chmodSync(path.join(logDir, f), 0o600);
  // the control plane's key, made here at first start unless the operator gives one (platform/secret-key.ts)
  loadSecretKey(loadConfig({ ...process.env, PGCP_DATA_DIR: opts.dataDir }).secretKey);
  const started: StackService[] = [];
  const run: Run = { logDir, report: opts.report ?? (() => undefined) };
  const steps: [string, number, () => Promise<StackService>][] = [
    ['store', stackPorts.store, () => startStore(opts.dataDir, run, opts.storeTls)],
    ['etcd', stackPorts.etcd, () => startEtcd(opts.dataDir, run)],
    ['codec', stackPorts.codec, () => startCodec(opts.dataDir, run)],
    ['temporal', stackPorts.temporal, () => startTemporal(opts.dataDir, run)],
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
    const admin = opts.storeUrl ? Object.assign(new URL(opts.storeUrl), { pathname: '/postgres' }).toString() : storeUrl('postgres', stackSecretsDir(opts.dataDir));
    const storeOurs = !started.find((x) => x.name === 'store')?.reused;
    for (const db of opts.storeDatabases) await ensureStoreDatabase(db, admin, storeOurs && opts.storeTls !== undefined);
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
