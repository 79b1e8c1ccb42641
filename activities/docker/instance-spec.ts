// Pure: the Docker create options of one instance container — from its plan, spec and files (instanceOptions), or
// from their flat inputs (instanceContainerOptions) — and the hash that tells when they drifted.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { repositoryCaPaths, repositoryDirs, type HostMount } from '../../workflows/model/backup-repository.js';
import { effectiveSwarm, instanceMounts, type ExtraNetwork } from '../../workflows/model/orchestrator-opts.js';
import { nodeBackupConfig } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import type { InstancePlan } from '../../workflows/model/instances.js';
import { parseCpus, parseMemory } from '../../workflows/model/resources.js';
import { labels } from './client.js';
import { inContainer, type InstanceHostFiles } from './instance-files.js';
import { bootScript, secretTmpfs } from './instance-boot.js';
import { patroniApiPort } from '../patroni/config.js';

export interface InstanceContainerInput {
  instanceId: string;
  databaseId: string;
  nodeName: string;
  hostId: string;
  namespace: string;
  image: string;
  network: string;
  volume: string;
  /** With backups or a restore source: the repositories' host paths (and the CA copies) to mount. */
  backup?: { mounts: HostMount[] } | null;
  hostAddress: string;
  /** /etc/hosts entries (`name:address`), e.g. an object store's name. */
  extraHosts?: string[];
  port: number | null;
  patroniPort: number | null;
  nanoCpus: number | null;
  memoryBytes: number | null;
  /** orchestrator_opts.swarm: bind mounts (besides the backup ones), user networks joined after creation, labels. */
  extraMounts?: HostMount[];
  extraNetworks?: ExtraNetwork[];
  extraLabels?: Record<string, string>;
}

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
    // the image's entrypoint runs it: wait for the secrets' delivery, then Patroni (instance-boot.ts)
    Cmd: ['bash', '-c', bootScript()],
    ExposedPorts: { '5432/tcp': {}, [`${patroniApiPort}/tcp`]: {} },
    HostConfig: {
      Init: true,
      RestartPolicy: { Name: 'unless-stopped' },
      // Patroni's and pgBackRest's configurations (passwords, repository keys): in memory only, never on the host
      Tmpfs: secretTmpfs(),
      // a repository directory (its database's, never base_path itself) is seen at the same path inside
      Mounts: [{ Type: 'volume', Source: i.volume, Target: inContainer.volume }, ...(i.extraMounts ?? []), ...(i.backup?.mounts ?? [])],
      PortBindings: ports,
      NetworkMode: i.network,
      ...(i.extraHosts?.length ? { ExtraHosts: i.extraHosts } : {}),
      ...(i.nanoCpus ? { NanoCpus: i.nanoCpus } : {}),
      ...(i.memoryBytes ? { Memory: i.memoryBytes } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [i.network]: { Aliases: [i.instanceId] } } },
  };
  // extra networks are joined after creation (this engine's API takes one network at create), yet part of the hash
  const extra = i.extraNetworks?.length || i.extraLabels && Object.keys(i.extraLabels).length ? { networks: i.extraNetworks ?? [], labels: i.extraLabels ?? {} } : null;
  const hash = createHash('sha256').update(JSON.stringify(extra ? { options, extra } : options)).digest('hex').slice(0, 16);
  options.Labels = {
    ...i.extraLabels,
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

export interface InstanceOptionsInput {
  spec: DatabaseSpec;
  plan: InstancePlan;
  namespace: string;
  image: string;
  /** The instance's host files (ensureInstanceFiles wrote those the spec needs). */
  files: InstanceHostFiles;
  host: { hostAddress: string; containerExtraHosts: string[] };
}

/**
 * The create options of an instance from its plan: the node's backups mount the repositories; a database created
 * from a backup also mounts its source repository.
 */
export function instanceOptions({ spec, plan, namespace, image, files, host }: InstanceOptionsInput): Docker.ContainerCreateOptions {
  const backups = nodeBackupConfig(spec, plan.nodeName);
  const rc = spec.restore_config;
  const swarm = effectiveSwarm(spec, plan.nodeName);
  const repos = [...(backups?.repositories ?? []), ...(rc ? [rc.repository] : [])];
  const mounts = instanceMounts(spec, plan.nodeName, repositoryDirs(plan.databaseId, backups?.repositories ?? [], rc), repositoryCaPaths(repos).length ? files.caDir : null);
  return instanceContainerOptions({
    instanceId: plan.instanceId, databaseId: plan.databaseId, nodeName: plan.nodeName, hostId: plan.hostId, namespace, image,
    network: ids.network(plan.databaseId), volume: ids.volume(plan.instanceId),
    hostAddress: host.hostAddress, extraHosts: host.containerExtraHosts,
    extraMounts: mounts,
    backup: backups || rc ? { mounts: [] } : null,
    port: plan.port, patroniPort: plan.patroniPort,
    nanoCpus: plan.cpus ? parseCpus(plan.cpus) : null, memoryBytes: plan.memory ? parseMemory(plan.memory) : null,
    extraNetworks: swarm.extra_networks, extraLabels: swarm.extra_labels,
  });
}

/** The labels of a database's network and volumes. */
export function databaseLabels(databaseId: string, namespace: string): Record<string, string> {
  return { [labels.managed]: 'true', [labels.databaseId]: databaseId, [labels.namespace]: namespace };
}
