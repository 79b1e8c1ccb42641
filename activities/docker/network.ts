// Docker networks: one bridge network per database, which its instances join under their names; and where this
// host reaches an instance on it.
import type Docker from 'dockerode';
import { ids } from '../../workflows/model/ids.js';
import { inspectContainerOrNull, isConflict, isNotFound } from './client.js';

/** The network of that name, made when missing (one a parallel activity made meanwhile is fine). */
export async function ensureNetwork(docker: Docker, name: string, labels: Record<string, string>): Promise<void> {
  try {
    await docker.getNetwork(name).inspect();
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
  } catch (err) {
    if (!isConflict(err)) throw err; // created meanwhile by a parallel activity
  }
}

/** Removes every network of that exact name (an earlier race may have made two); none left is fine. */
export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  const matches = (await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) })).filter((n) => n.Name === name);
  for (const n of matches) {
    try {
      await docker.getNetwork(n.Id).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** The instance's address on its database network, or null when it has none (not running). */
export function containerAddress(info: Docker.ContainerInspectInfo, network: string): string | null {
  return info.NetworkSettings.Networks?.[network]?.IPAddress || null;
}

/** Where this host reaches a running instance: its address on the database network. */
export async function instanceAddress(docker: Docker, databaseId: string, instanceId: string): Promise<string | null> {
  const info = await inspectContainerOrNull(docker, instanceId);
  return info?.State.Running ? containerAddress(info, ids.network(databaseId)) : null;
}
