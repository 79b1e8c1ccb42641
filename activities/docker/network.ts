// The database's Docker network on one engine (instances of hosts sharing that engine meet on it by name), and an
// instance's address on it. Where anything reaches an instance is decided in activities/addresses.ts.
import type Docker from 'dockerode';
import { isConflict, isNotFound } from './client.js';
import { FailureType, permanent } from '../errors.js';

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

/**
 * orchestrator_opts.swarm.extra_networks: the container joins each user network (with its aliases) after its
 * creation; one it already joined is left alone. A network that does not exist on this engine fails for good.
 */
export async function joinExtraNetworks(docker: Docker, container: string, networks: { id: string; aliases?: string[] }[]): Promise<void> {
  if (networks.length === 0) return;
  const joined = (await docker.getContainer(container).inspect()).NetworkSettings.Networks ?? {};
  for (const n of networks) {
    let info: { Id: string; Name: string };
    try {
      info = await docker.getNetwork(n.id).inspect();
    } catch (err) {
      if (isNotFound(err)) throw permanent(FailureType.misconfigured, `orchestrator_opts.swarm.extra_networks: network ${n.id} does not exist`);
      throw err;
    }
    if (joined[info.Name] || Object.values(joined).some((e) => e.NetworkID === info.Id)) continue;
    try {
      await docker.getNetwork(info.Id).connect({ Container: container, EndpointConfig: { Aliases: n.aliases ?? [] } });
    } catch (err) {
      if (!isConflict(err) && !/already exists/.test(String((err as Error).message))) throw err;
    }
  }
}
