// Worker process of one host: Temporal workers for `control-plane` and `host.<id>`, plus the host heartbeat.
//   --host-only           a host's agent alone (its queue, heartbeat and monitor): further hosts, other machines
//   --control-plane-only  the control-plane queue alone, no Docker engine (the production stack's worker service)
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDocker } from '../activities/docker/client.js';
import { createEtcd } from '../activities/etcd.js';
import { createStore, migrate } from '../store/db.js';
import { loadConfig } from '../platform/config.js';
import { readMembership, withMembership, type Membership } from '../platform/membership.js';
import { onMembershipChange } from '../platform/membership-watch.js';
import { startHeartbeat } from './heartbeat.js';
import { startMonitor } from './monitor.js';
import { startFastFailover } from './fast-failover.js';
import { startFencing } from './fencing.js';
import { startReconciler } from './reconciler.js';
import { createLogger } from '../platform/logger.js';
import { connectClient, connectWorker } from '../platform/temporal.js';
import { createSecretBox } from '../platform/secret-box.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { createTracing, otlpSpanProcessor } from '../platform/tracing.js';
import { installRuntime } from './runtime.js';
import { createWorkers } from './workers.js';

const base = loadConfig();
const log = createLogger(base.logLevel, `worker:${base.hostId}`);
/** A host whose server joins a cluster (PGCP_JOINS_CLUSTER): its agent starts once the join has been made. */
async function joined(): Promise<Membership> {
  log.info('waiting for this host to join a cluster (POST /v1/cluster/join on its API)');
  for (;;) {
    const m = readMembership(base.dataDir);
    if (m) return m;
    await sleep(1000);
  }
}
const membership = base.joinsCluster ? await joined() : null;
const config = membership ? withMembership(base, membership) : base;
const onlyHost = process.argv.includes('--host-only');
const onlyControlPlane = process.argv.includes('--control-plane-only');

// this process decides when to stop (below)
installRuntime(log, { metricsAddress: config.workerMetricsAddress, shutdownSignals: [] });

const secretKey = loadSecretKey(config.secretKey);
const store = createStore(config.storeUrl, createSecretBox(secretKey));
await migrate(store);
const docker = createDocker(config.dockerHost);
const etcd = createEtcd(config.etcdUrl, config.etcdCredentials, config.etcdCa);
const connection = await connectWorker(config.temporal.address, config.temporal.tls);
const tracing = config.otlpTracesUrl ? createTracing(`pgcp-worker-${config.hostId}`, otlpSpanProcessor(config.otlpTracesUrl)) : undefined;
const plugins = tracing ? [tracing.plugin] : undefined;
// a host's agent needs a client too when its fast failover is on: it starts tasks
const temporal = onlyHost && !config.fastFailover ? undefined : await connectClient(config.temporal.address, config.temporal.namespace, { secretKey, plugins, tls: config.temporal.tls });
const hostDeps = { docker, store, hostId: config.hostId, hostAddress: config.hostAddress, dataDir: config.dataDir, etcdHostsForContainers: config.etcdHostsForContainers, etcd, containerExtraHosts: config.containerExtraHosts, repositoryRoots: config.repositoryRoots };
const workers = await createWorkers({
  connection,
  namespace: config.temporal.namespace,
  host: hostDeps,
  controlPlane: { store, etcd, temporal },
  roles: { controlPlane: !onlyHost, host: !onlyControlPlane },
  secretKey,
  plugins,
});
// A joined host was registered by its join; other extra hosts register at their first heartbeat.
const joinAs = onlyHost && !membership
  ? { id: config.hostId, address: config.hostAddress, dataDir: config.dataDir, cpus: os.cpus().length, memoryBytes: os.totalmem() }
  : undefined;
const heartbeat = onlyControlPlane ? null : startHeartbeat({ store, docker, hostId: config.hostId, etcd, log, joinAs }, config.heartbeatMs);
const monitor = onlyControlPlane ? null : startMonitor({ ...hostDeps, log }, config.monitorMs);
// fencing is a safety net apart from the fast path: on even when PGCP_FAST_FAILOVER is off (Patroni alone)
const fencing = onlyControlPlane ? null : startFencing({ store, docker, hostId: config.hostId, etcd, log });
// the control-plane worker finds databases left locked or half-changed by a task that is gone
const reconciler = onlyHost || !temporal ? null : startReconciler({ store, temporal, log }, 30_000);
const fastFailover = onlyControlPlane || !config.fastFailover || !temporal ? null : startFastFailover({ store, docker, hostId: config.hostId, etcd, log, temporal });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  log.info('stopping');
  for (const w of workers) w.shutdown();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// A rotation of this host's credentials (npm run rotate-credentials) rewrites its membership: restart on the new ones.
if (membership) {
  onMembershipChange(base.dataDir, () => {
    log.info('this host\'s credentials changed: stopping, to be started again on them');
    stop();
    setTimeout(() => process.exit(0), 15_000).unref(); // whatever still holds the old credentials goes too
  });
}

log.info({ hostId: onlyControlPlane ? undefined : config.hostId, queues: workers.map((w) => w.options.taskQueue) }, 'worker ready');
await Promise.all(workers.map((w) => w.run()));
await heartbeat?.stop();
await monitor?.stop();
fastFailover?.stop();
fencing?.stop();
reconciler?.stop();
await connection.close();
await temporal?.connection.close();
await tracing?.shutdown();
await store.end();
