// The host's heartbeat: every few seconds, report whether this host's Docker engine and etcd answer, and which
// Postgres versions its images provide. The API reads it as the host's status.
import type Docker from 'dockerode';
import { builtImages } from '../activities/docker/images.js';
import type { Store } from '../store/db.js';
import { getCluster } from '../store/cluster.js';
import { getHost, upsertHost, writeHostStatus, type ComponentStatus, type HostRecord } from '../store/hosts.js';
import type { Logger } from '../platform/logger.js';

export interface HeartbeatDeps {
  store: Store;
  docker: Docker;
  hostId: string;
  etcdUrl: string;
  log: Logger;
  /** Set for hosts started beside the first one (`npm start -- --hosts …`): they join the cluster once it exists. */
  joinAs?: HostRecord;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function dockerStatus(docker: Docker): Promise<ComponentStatus> {
  try {
    const info = (await docker.version()) as { Version?: string };
    return { healthy: true, error: '', details: { version: info.Version ?? 'unknown' } };
  } catch (err) {
    return { healthy: false, error: errorText(err) };
  }
}

async function etcdStatus(url: string): Promise<ComponentStatus> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true' ? { healthy: true, error: '' } : { healthy: false, error: `etcd reports health=${body.health}` };
  } catch (err) {
    return { healthy: false, error: errorText(err) };
  }
}

export async function beat(deps: HeartbeatDeps): Promise<void> {
  const [docker, etcd] = await Promise.all([dockerStatus(deps.docker), etcdStatus(deps.etcdUrl)]);
  const images = docker.healthy ? await builtImages(deps.docker).catch(() => []) : [];
  if (deps.joinAs && (await getCluster(deps.store)) && !(await getHost(deps.store, deps.hostId))) {
    await upsertHost(deps.store, deps.joinAs);
    deps.log.info({ hostId: deps.hostId }, 'joined the cluster');
  }
  await writeHostStatus(deps.store, {
    hostId: deps.hostId,
    components: { docker, etcd },
    details: { supportedVersions: images.map((i) => ({ postgres_version: i.postgresVersion, spock_version: '5' })) },
  });
}

/** Beats now and every intervalMs until stopped; a failed beat is logged and the next one tries again. */
export function startHeartbeat(deps: HeartbeatDeps, intervalMs: number): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = beat(deps).catch((err: unknown) => deps.log.warn({ err: errorText(err) }, 'heartbeat failed'));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
