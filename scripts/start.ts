// `npm start`: the whole system on this machine — Temporal dev server, etcd, the store, one worker per host and the
// API. A worker or the API that crashes is started again (with backoff, see processes.ts) while the rest keeps
// running. Ctrl-C stops everything it started; starting again reuses the data under .data/.
//   --hosts host-1,host-2=127.0.0.9   host ids, each optionally with the address it publishes on
//   --reuse-stack                     use a Temporal, etcd and store already listening (tests run it so)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, projectRoot, defaultHostAddress } from '../platform/config.js';
import { superviseManaged, waitFor, type Supervised } from './processes.js';
import { codecEndpoint, portNames, stackPorts, startStack, stopStack, storeUrl, takenPorts, type StackService } from './stack.js';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: 'host-1' }, 'reuse-stack': { type: 'boolean', default: false } },
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
const reuse = values['reuse-stack'];
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
  services = await startStack({ dataDir: config.dataDir, reuse, namespaces: [namespace], storeDatabases: [storeDatabase] });
  const tsx = ['--import', 'tsx'];
  const env = { ...process.env, PGCP_STORE_URL: storeUrl(storeDatabase), PGCP_NAMESPACE: namespace };
  hostEntries.forEach(({ id: hostId, address }, i) => {
    const args = [...tsx, path.join(projectRoot, 'worker', 'main.ts'), ...(i === 0 ? [] : ['--host-only'])];
    processes.push(superviseManaged(`worker-${hostId}`, process.execPath, args, { logDir, report, env: { ...env, PGCP_HOST_ID: hostId, PGCP_HOST_ADDRESS: address, PGCP_WORKER_METRICS_ADDRESS: `127.0.0.1:${workerMetricsPort(i)}` } }));
  });
  const api = superviseManaged('api', process.execPath, [...tsx, path.join(projectRoot, 'api', 'main.ts')], { logDir, report, env: { ...env, PGCP_HOST_ID: hostEntries[0]!.id } });
  processes.push(api);
  const apiUrl = `http://127.0.0.1:${config.api.port}`;
  await waitFor(portNames.api ?? 'api', async () => (await fetch(`${apiUrl}/v1/version`)).ok, 60_000);
  console.log(`control plane ready in ${((performance.now() - t0) / 1000).toFixed(1)} s
  API          ${apiUrl}   (first: curl ${apiUrl}/v1/cluster/init; reference: ${apiUrl}/v1/docs)
  metrics      ${apiUrl}/metrics, workers: ${hostEntries.map((_, i) => `127.0.0.1:${workerMetricsPort(i)}/metrics`).join(', ')}
  Temporal UI  http://127.0.0.1:${stackPorts.temporalUi}/namespaces/${namespace}/workflows (payloads decoded by ${codecEndpoint})
  secret key   ${config.secretKey.key !== undefined ? 'PGCP_SECRET_KEY' : config.secretKey.file}
  hosts        ${hostEntries.map((h) => `${h.id} (${h.address})`).join(', ')}
  logs         ${logDir}
A worker or the API that exits is started again. Ctrl-C stops everything.`);
} catch (err) {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
