// `npm start`: the whole system on this machine — Temporal dev server, etcd, the store, one worker per host and the
// API. Any of them that crashes — a worker, the API, Temporal, etcd, the store — is started again (with backoff, see
// processes.ts) while the rest keeps running. Ctrl-C stops everything it started; starting again reuses the data under .data/.
//   --hosts host-1,host-2=127.0.0.9   host ids, each optionally with the address it publishes on
//   --reuse-stack                     use a Temporal, etcd and store already listening (tests run it so)
//   --tls                             mTLS on the API and TLS to the store, with the cluster CA in PGCP_PKI_DIR
//                                     (made if missing, as are the certificates api-server, store-server, admin)
//   --join                            this machine's server joins a cluster that runs elsewhere: no Temporal, etcd or
//                                     store here; the API (answering only POST /v1/cluster/join until then) and the
//                                     agent of the one host in --hosts, which starts once the join is made
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, projectRoot, defaultHostAddress, secretFiles } from '../platform/config.js';
import { ensureCa, ensureCertificate } from '../platform/pki.js';
import { tlsFetch } from '../sdk/tls-fetch.js';
import { readFileSync } from 'node:fs';
import { superviseManaged, waitFor, type Supervised } from './processes.js';
import { codecEndpoint, etcdCaFile, portNames, stackPorts, stackSecretsDir, startStack, stopStack, storeUrl, takenPorts, type StackService } from './stack.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: 'host-1' }, 'reuse-stack': { type: 'boolean', default: false }, tls: { type: 'boolean', default: false },
    join: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});
// `--hosts host-1,host-2=127.0.0.9`: host ids, each optionally with the address it publishes on (default 127.0.0.N).
const hostEntries = values.hosts.split(',').map((h) => h.trim()).filter(Boolean).map((h) => {
  const [id, address] = h.split('=');
  return { id: id!, address: address || defaultHostAddress(id!) };
});
const config = loadConfig();
const namespace = config.temporal.namespace;
const logDir = path.join(config.dataDir, 'logs');
const joining = values.join;
if (joining && hostEntries.length !== 1) {
  console.error('--join runs one host: give its id as --hosts <id>[=<address>]');
  process.exit(1);
}
const reuse = values['reuse-stack'] || joining;
/** The store database: `pgcp`, or the one PGCP_STORE_URL names (a test's own). */
const storeDatabase = new URL(config.storeUrl).pathname.slice(1) || 'pgcp';
const report = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

/** Each worker process serves Temporal's worker metrics on its own port (monitoring/prometheus.yml scrapes 9464). */
const workerMetricsPort = (i: number) => 9464 + i;
const workerMetricsPorts = Object.fromEntries(hostEntries.map((h, i) => [`worker metrics of ${h.id}`, workerMetricsPort(i)]));
const taken = await takenPorts(reuse ? { api: config.api.port, ...workerMetricsPorts } : { ...stackPorts, api: config.api.port, ...workerMetricsPorts });
if (taken.length > 0) {
  console.error(`cannot start: ${taken.join('; ')}.\nStop whatever holds ${taken.length > 1 ? 'them' : 'it'} (an earlier npm start?) and try again.`);
  process.exit(1);
}

/**
 * --tls: the cluster CA and the certificates this machine's processes need, made once in the PKI directory. The
 * Temporal dev server has no TLS option (`temporal server start-dev --help`), so Temporal stays plaintext on loopback
 * here; PGCP_TEMPORAL_CA_CERT … apply to a Temporal server that has TLS (the production stack's can).
 */
function tlsSetup() {
  const dir = config.pkiDir;
  const ca = ensureCa(dir);
  const server = ensureCertificate(dir, { kind: 'server', name: 'api-server', hosts: ['localhost', '127.0.0.1', '::1', ...config.api.allowedHosts] });
  const store = ensureCertificate(dir, { kind: 'server', name: 'store-server', hosts: ['localhost', '127.0.0.1'] });
  const admin = ensureCertificate(dir, { kind: 'client', name: 'admin' });
  return { ca, server, store, admin };
}
const tls = values.tls ? tlsSetup() : null;

const t0 = performance.now();
let services: StackService[] = [];
const processes: Supervised[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  console.log('\nstopping…');
  for (const p of [...processes].reverse()) await p.stop();
  await stopStack(services);
  console.log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // A reused stack's store URL comes with its password (PGCP_STORE_URL); our own stack's is in its 0600 file.
  const ownStoreUrl = new URL(config.storeUrl).password ? config.storeUrl : undefined;
  if (!joining) services = await startStack({
    dataDir: config.dataDir, reuse, namespaces: [namespace], storeDatabases: [storeDatabase], storeUrl: ownStoreUrl,
    ...(tls ? { storeTls: { certFile: tls.store.cert, keyFile: tls.store.key } } : {}),
    report,
  });
  const tsx = ['--import', 'tsx'];
  const storeTlsOn = tls !== null && !services.find((s) => s.name === 'store')?.reused;
  const storeUrlForProcesses = new URL(ownStoreUrl ?? storeUrl(storeDatabase, stackSecretsDir(config.dataDir)));
  if (storeTlsOn) {
    storeUrlForProcesses.searchParams.set('sslmode', 'verify-full');
    storeUrlForProcesses.searchParams.set('sslrootcert', tls.ca.cert);
  }
  const env = joining ? { ...process.env, PGCP_JOINS_CLUSTER: 'true' } : {
    ...process.env,
    PGCP_STORE_URL: storeUrlForProcesses.toString(),
    PGCP_NAMESPACE: namespace,
    PGCP_ETCD_PASSWORD_FILE: process.env.PGCP_ETCD_PASSWORD_FILE ?? secretFiles(stackSecretsDir(config.dataDir)).etcdRoot,
    PGCP_ETCD_CA_FILE: process.env.PGCP_ETCD_CA_FILE ?? etcdCaFile(stackSecretsDir(config.dataDir)),
    ...(tls ? { PGCP_HTTP_CA_CERT: tls.ca.cert, PGCP_HTTP_SERVER_CERT: tls.server.cert, PGCP_HTTP_SERVER_KEY: tls.server.key } : {}),
  };
  hostEntries.forEach(({ id: hostId, address }, i) => {
    const args = [...tsx, path.join(projectRoot, 'worker', 'main.ts'), ...(i === 0 && !joining ? [] : ['--host-only'])];
    processes.push(superviseManaged(`worker-${hostId}`, process.execPath, args, { logDir, report, env: { ...env, PGCP_HOST_ID: hostId, PGCP_HOST_ADDRESS: address, PGCP_WORKER_METRICS_ADDRESS: `127.0.0.1:${workerMetricsPort(i)}` } }));
  });
  const api = superviseManaged('api', process.execPath, [...tsx, path.join(projectRoot, 'api', 'main.ts')], {
    logDir, report, env: { ...env, PGCP_HOST_ID: hostEntries[0]!.id, ...(joining ? { PGCP_HOST_ADDRESS: hostEntries[0]!.address } : {}) },
  });
  processes.push(api);
  const apiUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${config.api.port}`;
  const get = tls ? tlsFetch({ ca: readFileSync(tls.ca.cert), cert: readFileSync(tls.admin.cert), key: readFileSync(tls.admin.key) }) : (r: Request) => fetch(r);
  await waitFor(portNames.api ?? 'api', async () => (await get(new Request(`${apiUrl}/v1/version`))).ok, 60_000);
  const curl = tls ? `curl --cacert ${tls.ca.cert} --cert ${tls.admin.cert} --key ${tls.admin.key}` : 'curl';
  if (joining) {
    console.log(`${hostEntries[0]!.id}'s server is ready to join in ${((performance.now() - t0) / 1000).toFixed(1)} s: on a member, curl <member>/v1/cluster/join-token; here,
  curl -X POST ${apiUrl}/v1/cluster/join -H 'Content-Type: application/json' -d '{"token": "<token>", "server_urls": ["<member URL>"]}'
Its agent starts once it has joined. Ctrl-C stops everything.`);
  } else {
  console.log(`control plane ready in ${((performance.now() - t0) / 1000).toFixed(1)} s
  API          ${apiUrl}   (first: ${curl} ${apiUrl}/v1/cluster/init; reference: ${apiUrl}/v1/docs)${tls ? `
  mTLS         on: client certificates signed by ${tls.ca.cert} (npm run cert -- client <name>); store TLS ${storeTlsOn ? 'on (verify-full)' : 'off (reused store)'}; Temporal dev server: plaintext (no TLS option)` : ''}
  metrics      ${apiUrl}/metrics, workers: ${hostEntries.map((_, i) => `127.0.0.1:${workerMetricsPort(i)}/metrics`).join(', ')}
  Temporal UI  http://127.0.0.1:${stackPorts.temporalUi}/namespaces/${namespace}/workflows (payloads decoded by ${codecEndpoint})
  secret key   ${config.secretKey.key !== undefined ? 'PGCP_SECRET_KEY' : config.secretKey.file}
  hosts        ${hostEntries.map((h) => `${h.id} (${h.address})`).join(', ')}
  logs         ${logDir}
A worker, the API or a service of the stack that exits is started again. Ctrl-C stops everything.`);
  }
} catch (err) {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
