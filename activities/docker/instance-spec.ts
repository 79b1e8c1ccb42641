// Pure: the Docker create options of one instance container, and the hash that tells when they drifted.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { labels } from './client.js';
import { patroniApiPort } from '../patroni/config.js';
import { createRestoreConfigPath, pgbackrestConfigPath } from '../../workflows/model/backup.js';
import type { HostMount } from '../../workflows/model/backup-repository.js';

export interface InstanceContainerInput {
  instanceId: string;
  databaseId: string;
  nodeName: string;
  hostId: string;
  namespace: string;
  image: string;
  network: string;
  volume: string;
  /** Host path of the rendered Patroni config, bind-mounted read-only. */
  configPath: string;
  /** With backups or a restore source: the rendered pgBackRest configs and the repositories' host paths. */
  backup?: { configPath: string | null; restoreConfigPath?: string | null; mounts: HostMount[] } | null;
  hostAddress: string;
  /** /etc/hosts entries (`name:address`), e.g. an object store's name. */
  extraHosts?: string[];
  port: number | null;
  patroniPort: number | null;
  nanoCpus: number | null;
  memoryBytes: number | null;
}

export const mountedConfigPath = '/run/pgcp/patroni.yml';

function binding(address: string, port: number | null) {
  return port === null ? undefined : [{ HostIp: address, HostPort: port === 0 ? '' : String(port) }];
}

export function instanceContainerOptions(i: InstanceContainerInput): Docker.ContainerCreateOptions {
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const pg = binding(i.hostAddress, i.port);
  const patroni = binding(i.hostAddress, i.patroniPort);
  if (pg) ports['5432/tcp'] = pg;
  if (patroni) ports[`${patroniApiPort}/tcp`] = patroni;
  const options: Docker.ContainerCreateOptions = {
    name: i.instanceId,
    Hostname: i.instanceId,
    Image: i.image,
    ExposedPorts: { '5432/tcp': {}, [`${patroniApiPort}/tcp`]: {} },
    HostConfig: {
      Init: true,
      RestartPolicy: { Name: 'unless-stopped' },
      Binds: [
        `${i.configPath}:${mountedConfigPath}:ro`,
        // a repository directory is seen at the same path inside, so the spec's base_path means the same everywhere
        ...(i.backup?.configPath ? [`${i.backup.configPath}:${pgbackrestConfigPath}:ro`] : []),
        ...(i.backup?.restoreConfigPath ? [`${i.backup.restoreConfigPath}:${createRestoreConfigPath}:ro`] : []),
      ],
      Mounts: [{ Type: 'volume', Source: i.volume, Target: '/var/lib/postgresql/data' }, ...(i.backup?.mounts ?? [])],
      PortBindings: ports,
      NetworkMode: i.network,
      ...(i.extraHosts?.length ? { ExtraHosts: i.extraHosts } : {}),
      ...(i.nanoCpus ? { NanoCpus: i.nanoCpus } : {}),
      ...(i.memoryBytes ? { Memory: i.memoryBytes } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [i.network]: { Aliases: [i.instanceId] } } },
  };
  const hash = createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16);
  options.Labels = {
    [labels.managed]: 'true',
    [labels.purpose]: 'instance',
    [labels.databaseId]: i.databaseId,
    [labels.instanceId]: i.instanceId,
    [labels.nodeName]: i.nodeName,
    [labels.hostId]: i.hostId,
    [labels.namespace]: i.namespace,
    [labels.specHash]: hash,
  };
  return options;
}

export function databaseLabels(databaseId: string, namespace: string): Record<string, string> {
  return { [labels.managed]: 'true', [labels.databaseId]: databaseId, [labels.namespace]: namespace };
}
