import type Docker from 'dockerode';
import { labels } from '../../activities/docker/client.js';

/** Removes every container, volume and network labelled with the given namespace; returns what it removed. */
export async function sweepDockerObjects(docker: Docker, namespace: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${labels.namespace}=${namespace}`] });
  const removed: string[] = [];
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    removed.push(`container ${c.Names[0] ?? c.Id}`);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    await docker.getVolume(v.Name).remove().catch(() => undefined);
    removed.push(`volume ${v.Name}`);
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
    removed.push(`network ${n.Name}`);
  }
  return removed;
}
