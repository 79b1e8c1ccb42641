// The database's Docker network on one engine (instances of hosts sharing that engine meet on it by name), and an
// instance's address on it. Where anything reaches an instance is decided in activities/addresses.ts.
import type Docker from 'dockerode';
import { isConflict, isNotFound } from './client.js';

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
