// Real Temporal workers for the tests' namespace, in the test process: the control-plane queue and host queues.
import type { Client } from '@temporalio/client';
import { testSecretKey, testTemporalClient } from './secret-key.js';
import { Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import path from 'node:path';
import { createDocker } from '../../activities/docker/client.js';
import type { Store } from '../../store/db.js';
import type { HostDeps } from '../../activities/deps.js';
import { defaultHostAddress, loadConfig, projectRoot } from '../../platform/config.js';
import { startHeartbeat } from '../../worker/heartbeat.js';
import { createLogger } from '../../platform/logger.js';
import type { Tracing } from '../../platform/tracing.js';
import { startMonitor } from '../../worker/monitor.js';
import { connectWorker } from '../../platform/temporal.js';
import { prometheusTelemetry } from '../../worker/runtime.js';
import { createWorkers } from '../../worker/workers.js';
import { stackEtcd } from './etcd.js';

let runtimeInstalled = false;

export interface RunningWorkers { client: Client; stop: () => Promise<void> }

/**
 * containerExtraHosts: /etc/hosts entries of the instance containers (PGCP_CONTAINER_EXTRA_HOSTS of a worker).
 * metricsAddress: where the runtime serves Temporal's worker metrics (PGCP_WORKER_METRICS_ADDRESS); only the first
 * start in a test file installs the runtime. tracing: the client and workers get its plugin (PGCP_OTLP_TRACES_URL).
 */
export async function startTestWorkers(store: Store, hostIds: string[] = ['host-1'], o: { containerExtraHosts?: string[]; metricsAddress?: string; tracing?: Tracing } = {}): Promise<RunningWorkers> {
  const stack = inject('stack');
  if (!runtimeInstalled) {
    Runtime.install({
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn: (m) => console.warn(m), error: (m) => console.error(m) },
      ...(o.metricsAddress ? { telemetryOptions: prometheusTelemetry(o.metricsAddress) } : {}),
    });
    runtimeInstalled = true;
  }
  const connection = await connectWorker(stack.temporalAddress);
  const plugins = o.tracing ? [o.tracing.plugin] : undefined;
  const client = await testTemporalClient(stack.temporalAddress, stack.namespace, plugins ? { plugins } : {});
  const docker = createDocker();
  const etcd = stackEtcd();
  const workers: Worker[] = [];
  const hosts = new Map<string, HostDeps>();
  for (const [i, hostId] of hostIds.entries()) {
    const config = loadConfig({ PGCP_HOST_ID: hostId, PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile, PGCP_ETCD_CA_FILE: stack.etcdCaFile });
    const host: HostDeps = {
      docker, store, hostId, hostAddress: defaultHostAddress(hostId),
      dataDir: path.join(projectRoot, '.data', 'test-stack', 'hosts', hostId), etcdHostsForContainers: config.etcdHostsForContainers, etcd,
      containerExtraHosts: o.containerExtraHosts ?? config.containerExtraHosts, repositoryRoots: config.repositoryRoots,
    };
    hosts.set(hostId, host);
    workers.push(...(await createWorkers({
      connection,
      namespace: stack.namespace,
      host,
      controlPlane: { store, etcd, temporal: client },
      roles: { controlPlane: i === 0, host: true },
      secretKey: testSecretKey(),
      plugins,
    })));
  }
  const running = workers.map((w) => w.run());
  const log = createLogger('warn', 'test-worker');
  const loops = hostIds.flatMap((hostId, i) => [
    startHeartbeat({
      store, docker, hostId, etcd, log,
      joinAs: i === 0 ? undefined : { id: hostId, address: defaultHostAddress(hostId), dataDir: path.join(projectRoot, '.data', 'test-stack', 'hosts', hostId), cpus: 1, memoryBytes: 0 },
    }, 1000),
    startMonitor({ ...hosts.get(hostId)!, log }, 1000),
  ]);
  return {
    client,
    stop: async () => {
      for (const l of loops) await l.stop();
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await client.connection.close();
      await connection.close();
    },
  };
}
