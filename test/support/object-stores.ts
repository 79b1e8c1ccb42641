// S3, GCS and Azure Blob emulators on this host, over TLS, for pgBackRest running inside the Postgres containers.
//
//   S3     moto served by cheroot (scripts/moto-tls.py)   https://emu-storage:9000   (path-style buckets)
//   GCS    fake-gcs-server, patched (scripts/emulators.sh) https://emu-storage:4443
//   Azure  azurite-blob (npm, in the cache dir)            https://emu-storage:10000/devstoreaccount1
//
// A throwaway CA signs a server certificate for emu-storage, localhost, 127.0.0.1 and the docker0 address; the
// emulators listen on the docker0 address (Docker's host-gateway), and containers reach them by the name emu-storage
// through `ExtraHosts: ['emu-storage:host-gateway']` (pgBackRest checks DNS names only, never IP addresses).
// Installed by `npm run setup -- --test` (scripts/emulators.sh; `npm test` does it); nothing here downloads anything.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, promises as fs, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { dockerBridgeAddress, projectRoot as root } from '../../platform/config.js';

const run = promisify(execFile);
const cacheDir = process.env.PGCP_CACHE_DIR || path.join(os.homedir(), '.cache', 'pgcp');

const HOST_ALIAS = 'emu-storage';
const S3_PORT = 9000;
const GCS_PORT = 4443;
const AZURE_PORT = 10000;
/** Azurite's well-known development account and key (public, not a secret). */
const AZURE_ACCOUNT = 'devstoreaccount1';
const AZURE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const AZURE_VERSION = '2021-06-08';
const TMP_PREFIX = 'pgcp-object-stores-';

export interface ObjectStores {
  caFile: string; // absolute host path of the CA certificate (PEM); mount it into the containers
  hostAlias: 'emu-storage'; // the name the containers use for this host
  extraHost: 'emu-storage:host-gateway'; // Docker ExtraHosts entry that makes hostAlias resolve to the emulators
  hostAddress: string; // where the emulators listen on this host (the docker0 address)
  s3: { endpoint: 'emu-storage'; port: 9000; region: 'us-east-1'; key: string; secret: string };
  gcs: { endpoint: 'emu-storage:4443'; token: string };
  azure: { account: 'devstoreaccount1'; key: string; endpoint: 'emu-storage'; port: 10000 };
  createBucket(kind: 's3' | 'gcs' | 'azure', name: string): Promise<void>;
  stop(): Promise<void>; // kills the three processes, removes temp dirs
}

interface Emulator {
  name: string;
  child: ChildProcess;
  output: () => string; // last lines the process printed, for error messages
}

/** Starts the three emulators and waits until each answers over TLS. Throws naming `npm run setup -- --test` if one is missing. */
export async function startObjectStores(): Promise<ObjectStores> {
  const moto = { python: path.join(cacheDir, 'moto', 'bin', 'python'), launcher: path.join(root, 'scripts', 'moto-tls.py') };
  const fakeGcs = path.join(cacheDir, 'bin', 'fake-gcs-server');
  const azurite = path.join(cacheDir, 'azurite', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
  const missing = [
    [moto.python, 'moto (S3)'],
    [fakeGcs, 'fake-gcs-server (GCS)'],
    [azurite, 'azurite (Azure Blob)'],
  ].filter(([file]) => !existsSync(file!));
  if (missing.length) {
    throw new Error(`object-store emulators not installed: ${missing.map(([f, what]) => `${what} at ${f}`).join(', ')}; run: npm run setup -- --test`);
  }

  const address = dockerBridgeAddress(); // what Docker's host-gateway stands for
  if (!address) throw new Error('object-store emulators: cannot find the docker0 address (is Docker running? run: npm run setup)');
  await sweepStaleDirs();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), TMP_PREFIX));
  await fs.chmod(dir, 0o755); // the CA file gets bind-mounted into containers
  await fs.writeFile(path.join(dir, 'owner.pid'), String(process.pid));
  const emulators: Emulator[] = [];
  const killAll = () => { // on process exit: synchronous only
    for (const e of emulators) if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(emulators.map((e) => terminate(e.child)));
    process.removeListener('exit', killAll);
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    const { caFile, certFile, keyFile } = await makeCertificates(dir, address);
    const ca = await fs.readFile(caFile);
    for (const sub of ['gcs', 'azure']) await fs.mkdir(path.join(dir, sub));

    emulators.push(
      launch('moto', moto.python, [moto.launcher, '--host', address, '--port', String(S3_PORT), '--cert', certFile, '--key', keyFile], {
        PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1',
      }),
      launch('fake-gcs-server', fakeGcs, [
        '-scheme', 'https', '-host', address, '-port', String(GCS_PORT), '-cert-location', certFile, '-private-key-location', keyFile,
        '-backend', 'filesystem', '-filesystem-root', path.join(dir, 'gcs'), '-log-level', 'warn',
        '-external-url', `https://${HOST_ALIAS}:${GCS_PORT}`, '-public-host', `${HOST_ALIAS}:${GCS_PORT}`,
      ]),
      launch('azurite-blob', process.execPath, [
        azurite, '--blobHost', address, '--blobPort', String(AZURE_PORT), '--cert', certFile, '--key', keyFile,
        '--location', path.join(dir, 'azure'), '--disableTelemetry', '--skipApiVersionCheck', '--loose', '--silent',
      ]),
    );

    const base = (port: number) => `https://${address}:${port}`;
    await Promise.all([
      waitReady(emulators[0]!, ca, `${base(S3_PORT)}/`),
      waitReady(emulators[1]!, ca, `${base(GCS_PORT)}/storage/v1/b`),
      waitReady(emulators[2]!, ca, `${base(AZURE_PORT)}/${AZURE_ACCOUNT}?comp=list`),
    ]);

    const s3 = { endpoint: HOST_ALIAS, port: S3_PORT, region: 'us-east-1', key: 'pgcp-test-access-key', secret: 'pgcp-test-secret-key' } as const;
    const gcs = { endpoint: `${HOST_ALIAS}:${GCS_PORT}`, token: 'pgcp-test-token' } as const;
    const azure = { account: AZURE_ACCOUNT, key: AZURE_KEY, endpoint: HOST_ALIAS, port: AZURE_PORT } as const;

    const createBucket = async (kind: 's3' | 'gcs' | 'azure', name: string): Promise<void> => {
      let res: HttpResponse;
      if (kind === 's3') {
        res = await request(ca, 'PUT', `${base(S3_PORT)}/${name}`, { 'content-length': '0' });
      } else if (kind === 'gcs') {
        const body = JSON.stringify({ name });
        res = await request(ca, 'POST', `${base(GCS_PORT)}/storage/v1/b?project=test`, {
          'content-type': 'application/json', authorization: `Bearer ${gcs.token}`,
        }, body);
      } else {
        const date = new Date().toUTCString();
        // SharedKey: VERB, 11 empty standard headers (Content-Length 0 is signed as empty), x-ms-* headers, resource.
        const toSign = `PUT\n${'\n'.repeat(11)}x-ms-date:${date}\nx-ms-version:${AZURE_VERSION}\n` +
          `/${AZURE_ACCOUNT}/${AZURE_ACCOUNT}/${name}\nrestype:container`;
        const signature = createHmac('sha256', Buffer.from(AZURE_KEY, 'base64')).update(toSign, 'utf8').digest('base64');
        res = await request(ca, 'PUT', `${base(AZURE_PORT)}/${AZURE_ACCOUNT}/${name}?restype=container`, {
          'x-ms-date': date, 'x-ms-version': AZURE_VERSION, 'content-length': '0', authorization: `SharedKey ${AZURE_ACCOUNT}:${signature}`,
        });
      }
      if (res.status < 200 || res.status >= 300) {
        throw new Error(`creating ${kind} bucket ${name}: HTTP ${res.status} ${res.body.slice(0, 500)}`);
      }
    };

    return { caFile, hostAlias: HOST_ALIAS, extraHost: `${HOST_ALIAS}:host-gateway`, hostAddress: address, s3, gcs, azure, createBucket, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Removes the temp dirs of earlier runs whose process is gone (killed before stop() or its exit hook could run). */
async function sweepStaleDirs(): Promise<void> {
  for (const name of await fs.readdir(os.tmpdir()).catch(() => [])) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    const pid = Number(await fs.readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

async function makeCertificates(dir: string, address: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '7', '-subj', '/CN=pgcp test object stores CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${HOST_ALIAS}`]);
  await fs.writeFile(f('server.ext'), [
    `subjectAltName=DNS:${HOST_ALIAS},DNS:localhost,IP:127.0.0.1,IP:${address}`,
    'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', `0x${Date.now().toString(16)}`,
    '-days', '7', '-extfile', f('server.ext'), '-out', f('server.pem')]);
  await fs.rm(f('ca.key'));
  await fs.chmod(f('ca.pem'), 0o644);
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

/** Spawns one emulator; with setpriv it dies with this process even on SIGKILL (the 'exit' hook covers the rest). */
function launch(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Emulator {
  const pdeath = existsSync('/usr/bin/setpriv');
  const child = spawn(pdeath ? '/usr/bin/setpriv' : cmd, pdeath ? ['--pdeathsig', 'KILL', '--', cmd, ...args] : args, {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let tail = '';
  const keep = (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (err) => keep(Buffer.from(`\nspawn error: ${err.message}\n`)));
  return { name, child, output: () => tail };
}

async function waitReady(e: Emulator, ca: Buffer, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (e.child.exitCode !== null || e.child.signalCode !== null) {
      const inUse = /address already in use|EADDRINUSE/i.test(e.output()) ? ' (its port is taken: is another startObjectStores() running?)' : '';
      throw new Error(`${e.name} exited (${e.child.exitCode ?? e.child.signalCode}) before answering ${url}${inUse}:\n${e.output()}`);
    }
    try {
      await request(ca, 'GET', url, {}, undefined, 2000); // any HTTP answer over verified TLS will do
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`${e.name} did not answer ${url} in ${timeoutMs / 1000} s (${(err as Error).message}):\n${e.output()}`, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

interface HttpResponse { status: number; body: string }

function request(ca: Buffer, method: string, url: string, headers: Record<string, string>, body?: string, timeoutMs = 30_000): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
