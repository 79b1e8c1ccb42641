// The one place that decides instance addresses — how an instance reaches another one (replication DSNs, Patroni's
// connect_address, so streaming replication and basebackup too) and how a host's agent reaches an instance.
// Instances whose hosts share a Docker engine meet on the database's Docker network by container name and inner
// ports. Across engines (hosts on separate machines) nothing is shared: traffic goes to the other host's address and
// the node's published `port` / `patroni_port`. Which hosts share an engine, each host's heartbeat tells
// (`dockerEngine`, activities/docker/engine.ts); a host that has not reported one yet is taken to share it.
import type Docker from 'dockerode';
import { ApplicationFailure } from '@temporalio/activity';
import { planInstances, type InstancePlan } from '../workflows/model/instances.js';
import { ids } from '../workflows/model/ids.js';
import { getDatabase } from '../store/databases.js';
import { getInstance } from '../store/instances.js';
import type { Store } from '../store/db.js';
import { listHosts, listHostStatuses } from '../store/hosts.js';
import { inspectContainerOrNull } from './docker/client.js';
import { containerAddress } from './docker/network.js';
import { FailureType } from './errors.js';

export const innerPorts = { postgres: 5432, patroni: 8008 } as const;

/**
 * Where an instance's Postgres and Patroni REST API answer; a port is null when it is not reachable from there.
 * `via`: the database network (same engine), or another host's address and published ports.
 */
export interface InstanceAddress { host: string; postgresPort: number | null; patroniPort: number | null; via: 'network' | 'published' }

export interface HostPlace { address: string; engine: string | null }
/** Every host of the cluster: its address and its Docker engine. */
export type Topology = ReadonlyMap<string, HostPlace>;

type Target = Pick<InstancePlan, 'instanceId' | 'hostId' | 'nodeName' | 'port' | 'patroniPort'>;

export async function loadTopology(store: Store): Promise<Topology> {
  const [hosts, statuses] = await Promise.all([listHosts(store), listHostStatuses(store)]);
  return new Map(hosts.map((h) => [h.id, { address: h.address, engine: statuses.get(h.id)?.details.dockerEngine ?? null }]));
}

/** True when every listed host whose engine is known has the same one. */
export function sameEngine(topology: Topology, hostIds: string[]): boolean {
  return new Set(hostIds.map((h) => topology.get(h)?.engine).filter(Boolean)).size <= 1;
}

/** An instance on the database network: its container name or address, inner ports. */
export function onNetwork(host: string): InstanceAddress {
  return { host, postgresPort: innerPorts.postgres, patroniPort: innerPorts.patroni, via: 'network' };
}

/** An instance seen from another engine: its host's address and the node's published ports (0 = random: unknown). */
export function published(topology: Topology, to: Pick<Target, 'hostId' | 'port' | 'patroniPort'>): InstanceAddress {
  const host = topology.get(to.hostId);
  if (!host) throw ApplicationFailure.nonRetryable(`host ${to.hostId} is not registered: its address is unknown`, FailureType.invalidSpec);
  return { host: host.address, postgresPort: to.port || null, patroniPort: to.patroniPort || null, via: 'published' };
}

/** How instances on `fromHosts` reach instance `to`. */
export function peerAddress(topology: Topology, fromHosts: string[], to: Target): InstanceAddress {
  return sameEngine(topology, [...fromHosts, to.hostId]) ? onNetwork(to.instanceId) : published(topology, to);
}

function missingPort(to: Target, what: string, why: string): never {
  throw ApplicationFailure.nonRetryable(
    `node ${to.nodeName}: instance ${to.instanceId} on ${to.hostId} is reached from another Docker engine (${why}), which needs its ${what} published: set the node's ${what} (not 0)`,
    FailureType.invalidSpec,
  );
}

/** host:port pairs of a node's instances as every instance of the database reaches them: a replication DSN's hosts. */
export function nodePostgresEndpoints(topology: Topology, instances: InstancePlan[], nodeName: string): { hosts: string[]; ports: number[] } {
  const everyHost = [...new Set(instances.map((i) => i.hostId))];
  const members = instances.filter((i) => i.nodeName === nodeName);
  const addresses = members.map((m) => {
    const a = peerAddress(topology, everyHost, m);
    return { host: a.host, port: a.postgresPort ?? missingPort(m, 'port', 'replication between nodes') };
  });
  return { hosts: addresses.map((a) => a.host), ports: addresses.map((a) => a.port) };
}

/** Patroni's connect_address (postgresql, restapi) of an instance: how the other members of its node reach it. */
export function memberConnectAddress(topology: Topology, instances: InstancePlan[], member: InstancePlan): { postgres: string; restapi: string } {
  const hosts = instances.filter((i) => i.nodeName === member.nodeName).map((i) => i.hostId);
  const a = peerAddress(topology, hosts, member);
  const why = 'the members of one node';
  return {
    postgres: `${a.host}:${a.postgresPort ?? missingPort(member, 'port', why)}`,
    restapi: `${a.host}:${a.patroniPort ?? missingPort(member, 'patroni_port', why)}`,
  };
}

/**
 * Where this host's agent reaches an instance, or null when it does not run (or does not exist yet). An instance of
 * this engine is inspected and reached by its container address; one of another engine by its host's address and
 * published ports (whether it runs, only a connection tells).
 */
export async function instanceAddress(
  deps: { docker: Docker; store: Store; hostId: string }, databaseId: string, instanceId: string,
): Promise<InstanceAddress | null> {
  const info = await inspectContainerOrNull(deps.docker, instanceId);
  if (info) {
    const ip = info.State.Running ? containerAddress(info, ids.network(databaseId)) : null;
    return ip ? onNetwork(ip) : null;
  }
  const rec = await getInstance(deps.store, instanceId);
  if (!rec || rec.hostId === deps.hostId) return null;
  const topology = await loadTopology(deps.store);
  if (sameEngine(topology, [deps.hostId, rec.hostId])) return null; // on this engine it would have been found
  const spec = (await getDatabase(deps.store, databaseId))?.spec;
  const plan = spec ? planInstances(databaseId, spec).find((i) => i.instanceId === instanceId) : undefined;
  return published(topology, { hostId: rec.hostId, port: plan?.port ?? null, patroniPort: plan?.patroniPort ?? null });
}

/** host and port of an address's Postgres, or an error naming what is not reachable. */
export function postgresEndpoint(a: InstanceAddress): { host: string; port: number } {
  if (a.postgresPort === null) throw new Error(`Postgres at ${a.host} is not reachable from this host: its node publishes no port`);
  return { host: a.host, port: a.postgresPort };
}

/** Base URL of an address's Patroni REST API, or null when it is not reachable from this host. */
export function patroniUrl(a: InstanceAddress): string | null {
  return a.patroniPort === null ? null : `http://${a.host}:${a.patroniPort}`;
}
