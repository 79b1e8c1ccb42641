// The host's heartbeat: every few seconds, report whether this host's Docker engine and etcd answer, which
// Postgres versions its images provide, and which engine it is (hosts that share one meet on Docker networks). The
// API reads it as the host's status.
import type Docker from 'dockerode';
import { countPrefix, etcdPost, type Etcd } from '../activities/etcd.js';
import { ids } from '../workflows/model/ids.js';
import { dockerEngineKey } from '../activities/docker/engine.js';
import { builtImages } from '../activities/docker/images.js';
import type { Store } from '../store/db.js';
import { getCluster } from '../store/cluster.js';
import { getHost, upsertHost, writeHostStatus, type ComponentStatus, type HostRecord } from '../store/hosts.js';
import type { Logger } from '../platform/logger.js';

export interface HeartbeatDeps {
  store: Store;
  docker: Docker;
  hostId: string;
  etcd: Etcd;
  log: Logger;
  /**
   * Set for hosts started beside the first one (`npm start -- --hosts …`): they join the cluster once it exists (the
   * first beat that finds it registers the host if needed, then this is cleared).
   */
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

/** etcd answers and is healthy, and (with authentication on) takes this host's credential. */
async function etcdStatus(etcd: Etcd): Promise<ComponentStatus> {
  try {
    const res = await etcdPost(etcd.url, '/health', '', {}, etcd.ca, 'GET');
    const body = JSON.parse(res.text) as { health?: string };
    if (body.health !== 'true') return { healthy: false, error: `etcd reports health=${body.health}` };
    if (etcd.authenticated) await countPrefix(etcd, ids.patroniNamespace);
    return { healthy: true, error: '' };
  } catch (err) {
    return { healthy: false, error: errorText(err) };
  }
}

/**
 * One beat. Returns the engine key it reported: while the engine does not answer, the last one known is kept (the
 * host still has that engine; its instances' addresses must not change meanwhile).
 */
export async function beat(deps: HeartbeatDeps, knownEngine?: string): Promise<string | undefined> {
  const [docker, etcd] = await Promise.all([dockerStatus(deps.docker), etcdStatus(deps.etcd)]);
  const images = docker.healthy ? await builtImages(deps.docker).catch(() => []) : [];
  const dockerEngine = (docker.healthy ? await dockerEngineKey(deps.docker).catch(() => undefined) : undefined) ?? knownEngine;
  if (deps.joinAs && (await getCluster(deps.store))) {
    if (!(await getHost(deps.store, deps.hostId))) {
      await upsertHost(deps.store, deps.joinAs);
      deps.log.info({ hostId: deps.hostId }, 'joined the cluster');
    }
    // Once per process: a host removed later (DELETE /v1/hosts/{id}) is not registered again by its running agent.
    deps.joinAs = undefined;
  }
  await writeHostStatus(deps.store, {
    hostId: deps.hostId,
    components: { docker, etcd },
    details: { supportedVersions: images.map((i) => ({ postgres_version: i.postgresVersion, spock_version: '5', image: i.image, extensions: i.extensionVersions })), ...(dockerEngine ? { dockerEngine } : {}) },
  });
  return dockerEngine;
}

/** Beats now and every intervalMs until stopped; a failed beat is logged and the next one tries again. */
export function startHeartbeat(deps: HeartbeatDeps, intervalMs: number): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let engine: string | undefined;
  const tick = () => {
    running = beat(deps, engine).then((e) => { engine = e; }, (err: unknown) => deps.log.warn({ err: errorText(err) }, 'heartbeat failed'));
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
