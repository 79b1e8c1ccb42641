// Service instances (pgEdge §5.7, §6.3): one container per service and host, on that host's engine and the
// database's network there, reaching the database instances as addresses.ts decides. Each activity checks before it
// acts: the container is named after the service instance and carries a hash of its options, so a retry or a
// re-run converges, an unchanged service is not touched, and a changed config makes the container again.
import { joinExtraNetworks } from '../docker/network.js';
import type { SwarmOpts } from '../../workflows/model/orchestrator-opts.js';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { chmod, mkdir, rm, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { mcpTag, pgbouncerTag } from '../../images/services/recipe.mjs';
import { getServiceInstance, setServiceInstanceState, upsertServiceInstance, deleteServiceInstance, type ServiceInstanceStatus } from '../../store/services.js';
import { ids, labelPrefix, labels } from '../../workflows/model/ids.js';
import { serviceContainerPort, serviceIds, serviceImageKey } from '../../workflows/model/services.js';
import { redactValues } from '../../workflows/model/redact.js';
import { activityNamespace } from '../activity-namespace.js';
import { loadDatabase, type DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';
import { pollUntil } from '../heartbeats.js';
import { inspectContainerOrNull, inspectImageOrNull, publishedPort, removeContainer, startContainer } from '../docker/client.js';
import { ensureContainer } from '../docker/ensure-container.js';
import { containerAddress, ensureNetwork } from '../docker/network.js';
import { databaseLabels } from '../docker/instance-spec.js';
import { parseCpus, parseMemory } from '../../workflows/model/resources.js';
import { mcpAuthFile, serviceDataDir } from './mcp-config.js';
import { poolerSettings, poolerTarget, poolerUserlist } from './pgbouncer.js';
import { deliversSecrets, deliverServiceFiles, serviceBoot, serviceSecretFiles, serviceSecretPaths, serviceTarget } from './service-secrets.js';

export interface ServiceInstanceKey { databaseId: string; serviceId: string }

/** pgEdge §7.3: a service instance has 5 minutes to become healthy. */
export const serviceCreationTimeoutMs = 5 * 60_000;

const serviceLabels = { serviceId: `${labelPrefix}.service-id`, serviceInstanceId: `${labelPrefix}.service-instance-id` } as const;

/** The instance's non-secret files on the host (the MCP server's auth.json: hashes only), mounted read-only. */
export const serviceFilesDir = (dataDir: string, serviceInstanceId: string) => path.join(dataDir, 'services', serviceInstanceId);

/** Files an earlier version wrote there with connect_as's password in clear: removed when the instance is ensured. */
const clearFilesOfEarlierVersions = ['config.json', 'postgrest.conf', 'pgbouncer.ini', 'userlist.txt'];

/** The image a service's version runs from; unsupported versions and images this engine lacks fail for good. */
export function serviceImage(s: ServiceSpec): string | { error: string } {
  const key = serviceImageKey(s.service_type, s.version);
  if (key === null) return { error: `unsupported version "${s.version}" for service type ${s.service_type}` };
  // orchestrator_opts.swarm.image replaces the version's image (an empty string: back to the version's)
  if (s.orchestrator_opts?.swarm?.image) return s.orchestrator_opts.swarm.image;
  return key === 'mcp' ? mcpTag() : key === 'pgbouncer' ? pgbouncerTag() : key;
}

/** The Docker create options of one service instance (pure); the hash label tells when they drifted. */
export function serviceContainerOptions(i: {
  container: string; serviceInstanceId: string; databaseId: string; serviceId: string; hostId: string; namespace: string; image: string;
  /** The host directory of its non-secret files, if it has any. */
  filesDir: string | null; hostAddress: string; port: number | null; configVersion: string; cpus?: string; memory?: string; extraHosts: string[];
  /** Its entrypoint, which waits for its secret files, and the tmpfs they are delivered onto (service-secrets.ts). */
  boot: { Entrypoint: string[]; Tmpfs: Record<string, string> };
  /** orchestrator_opts.swarm: the user's labels and the networks it joins besides the database's. */
  swarm?: SwarmOpts;
}): Docker.ContainerCreateOptions {
  const nano = i.cpus ? parseCpus(i.cpus) : null;
  const mem = i.memory ? parseMemory(i.memory) : null;
  const options: Docker.ContainerCreateOptions = {
    name: i.container,
    Hostname: i.container,
    Image: i.image,
    Env: [`PGCP_CONFIG_VERSION=${i.configVersion}`],
    Entrypoint: i.boot.Entrypoint,
    Cmd: [],
    ExposedPorts: { [`${serviceContainerPort}/tcp`]: {} },
    HostConfig: {
      Init: true,
      RestartPolicy: { Name: 'unless-stopped' },
      ...(i.filesDir ? { Binds: [`${i.filesDir}:${serviceDataDir}:ro`] } : {}),
      Tmpfs: i.boot.Tmpfs,
      PortBindings: i.port === null ? {} : { [`${serviceContainerPort}/tcp`]: [{ HostIp: i.hostAddress, HostPort: i.port === 0 ? '' : String(i.port) }] },
      NetworkMode: ids.network(i.databaseId),
      ...(i.extraHosts.length ? { ExtraHosts: i.extraHosts } : {}),
      ...(nano ? { NanoCpus: nano } : {}),
      ...(mem ? { Memory: mem } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [ids.network(i.databaseId)]: { Aliases: [i.container] } } },
  };
  const extra = { labels: i.swarm?.extra_labels ?? {}, networks: i.swarm?.extra_networks ?? [] };
  // the extra networks are joined after creation (joinExtraNetworks): in the hash, so a change makes the container again
  const hash = createHash('sha256').update(JSON.stringify(extra.networks.length || Object.keys(extra.labels).length ? [options, extra] : options)).digest('hex').slice(0, 16);
  options.Labels = {
    ...extra.labels,
    [labels.managed]: 'true',
    [labels.purpose]: 'service',
    [labels.databaseId]: i.databaseId,
    [labels.hostId]: i.hostId,
    [labels.namespace]: i.namespace,
    [labels.specHash]: hash,
    [serviceLabels.serviceId]: i.serviceId,
    [serviceLabels.serviceInstanceId]: i.serviceInstanceId,
  };
  return options;
}

function findService(db: DatabaseContext, serviceId: string): ServiceSpec {
  const s = db.spec.services?.find((x) => x.service_id === serviceId);
  if (!s) throw permanent(FailureType.notFound, `service ${serviceId} is not in the spec of ${db.databaseId}`);
  return s;
}

/** A TCP connection to the service's port (the pooler speaks Postgres's protocol, not HTTP). */
function tcpProbe(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, timeout: 2000 });
    sock.once('connect', () => { sock.destroy(); resolve(); });
    sock.once('timeout', () => { sock.destroy(); reject(new Error('connection timed out')); });
    sock.once('error', reject);
  });
}

/** What the monitor and the wait report: container, addresses, ports, and the answer of its /health (a pooler: its port). */
export async function observeServiceInstance(docker: Docker, databaseId: string, container: string, hostAddress: string, version: string, type: ServiceSpec['service_type'] = 'mcp'): Promise<ServiceInstanceStatus> {
  const checkedAt = new Date().toISOString();
  const info = await inspectContainerOrNull(docker, container);
  if (!info) return { health: { status: 'unhealthy', message: 'container status not available', checkedAt }, ready: false };
  const hostPort = publishedPort(info, `${serviceContainerPort}/tcp`);
  const base: ServiceInstanceStatus = {
    containerId: info.Id.slice(0, 12),
    imageVersion: version,
    addresses: [hostAddress],
    ports: [{ name: type === 'pgbouncer' ? 'tcp' : 'http', container_port: serviceContainerPort, ...(hostPort ? { host_port: hostPort } : {}) }],
  };
  const ip = info.State.Running ? containerAddress(info, ids.network(databaseId)) : null;
  if (!ip) return { ...base, health: { status: 'unhealthy', message: `container is ${info.State.Status}`, checkedAt }, ready: false };
  if (type === 'pgbouncer') {
    return tcpProbe(ip, serviceContainerPort).then(
      (): ServiceInstanceStatus => ({ ...base, health: { status: 'healthy', checkedAt }, lastHealthyAt: checkedAt, ready: true }),
      (err: Error): ServiceInstanceStatus => ({ ...base, health: { status: 'unhealthy', message: `port ${serviceContainerPort}: ${err.message}`, checkedAt }, ready: false }),
    );
  }
  try {
    const res = await fetch(`http://${ip}:${serviceContainerPort}/health`, { signal: AbortSignal.timeout(2000) });
    if (res.ok) return { ...base, health: { status: 'healthy', checkedAt }, lastHealthyAt: checkedAt, ready: true };
    return { ...base, health: { status: 'unhealthy', message: `health check answered ${res.status}`, checkedAt }, ready: false };
  } catch (err) {
    return { ...base, health: { status: 'unhealthy', message: `health check: ${(err as Error).message}`, checkedAt }, ready: false };
  }
}

export function serviceInstanceActivities(deps: HostDeps) {
  const { docker } = deps;

  /** Marks the instance failed with the message and fails the step for good. */
  async function fail(id: string, message: string): Promise<never> {
    await setServiceInstanceState(deps.store, id, 'failed', message);
    throw permanent(FailureType.invalidSpec, message);
  }

  return {
    /**
     * Record, image, files and container of the service's instance on this host, started. An instance whose
     * container is unchanged and running keeps its state (an update of another service does not touch it).
     */
    async ensureServiceInstance({ databaseId, serviceId }: ServiceInstanceKey): Promise<{ changed: boolean }> {
      const db = await loadDatabase(deps.store, databaseId);
      const s = findService(db, serviceId);
      if (!s.host_ids.includes(deps.hostId)) throw permanent(FailureType.misconfigured, `service ${serviceId} has no instance on ${deps.hostId}`);
      const id = serviceIds.instance(databaseId, serviceId, deps.hostId);
      const container = serviceIds.container(databaseId, serviceId, deps.hostId);
      const before = await getServiceInstance(deps.store, id);
      if (!before) await upsertServiceInstance(deps.store, { id, databaseId, serviceId, hostId: deps.hostId, state: 'creating' });
      const image = serviceImage(s);
      if (typeof image !== 'string') return fail(id, image.error);
      // Checked before anything is made: an image this engine lacks leaves nothing behind.
      if (!(await inspectImageOrNull(docker, image))) {
        const hint = s.service_type === 'mcp' ? 'run npm run setup' : 'no registry is reachable from this control plane to pull it';
        return fail(id, `image ${image} for service ${serviceId} (${s.service_type} ${s.version}) is not available on ${deps.hostId}: ${hint}`);
      }
      const target = serviceTarget(db, s, deps.hostId);
      if ('error' in target) return fail(id, target.error);
      // RAG: its configuration renders (rag.ts ragConfig), but pgEdge's RAG server image never reaches this step here,
      // so how it would take the configuration and its keys in memory is not built: refused rather than written to a file
      if (s.service_type === 'rag') return fail(id, `service ${serviceId}: delivering a RAG server's configuration is not supported by this control plane`);
      if (!deliversSecrets(s.service_type)) {
        return fail(id, `service ${serviceId}: a ${s.service_type} container cannot take connect_as's password in memory (its image has no shell to wait for it), and this control plane keeps no password in a file on the host`);
      }
      const dir = serviceFilesDir(deps.dataDir, id);
      await Promise.all(clearFilesOfEarlierVersions.map((f) => rm(path.join(dir, f), { force: true })));
      // a pooler names the node's current primary; the container's identity leaves it out (a switchover only reloads PgBouncer)
      const primary = s.service_type === 'pgbouncer'
        ? await pollUntil(`a primary for pooler ${id}`, 2 * 60_000, async () => (await poolerTarget(deps, db, s)) ?? { waiting: 'no leader yet' })
        : null;
      const files = serviceSecretFiles(s, target, primary);
      const identity = s.service_type === 'pgbouncer' ? poolerSettings(s) + poolerUserlist(target.user, target.password) : files[serviceSecretPaths.mcpConfig]!;
      if (s.service_type === 'mcp') {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await chmod(dir, 0o700);
        // init_token / init_users: bootstrap only, written once (pgEdge: tokens.yaml/users.yaml only if absent); hashes only
        const auth = path.join(dir, 'auth.json');
        if (!(await access(auth).then(() => true, () => false))) await writeFile(auth, JSON.stringify(mcpAuthFile(s)), { mode: 0o600 });
      } else {
        await rm(dir, { recursive: true, force: true });
      }
      const namespace = activityNamespace();
      await ensureNetwork(docker, ids.network(databaseId), databaseLabels(databaseId, namespace));
      const options = serviceContainerOptions({
        container, serviceInstanceId: id, databaseId, serviceId, hostId: deps.hostId, namespace, image, filesDir: s.service_type === 'mcp' ? dir : null, hostAddress: deps.hostAddress,
        port: s.port ?? null, configVersion: createHash('sha256').update(identity).digest('hex').slice(0, 8), cpus: s.cpus, memory: s.memory, extraHosts: deps.containerExtraHosts,
        boot: serviceBoot(s.service_type), swarm: s.orchestrator_opts?.swarm,
      });
      const redact = (err: unknown) => new Error(redactValues((err as Error).message, [target.password]));
      const result = await ensureContainer(docker, options).catch((err: unknown) => { throw redact(err); });
      await joinExtraNetworks(docker, container, s.orchestrator_opts?.swarm?.extra_networks ?? []);
      const running = result.outcome === 'unchanged' && (await docker.getContainer(container).inspect()).State.Running;
      await startContainer(docker.getContainer(container));
      // the files into its tmpfs: a new container starts on them; a running pooler whose primary moved reloads, its clients kept
      await deliverServiceFiles(docker, container, s, files).catch((err: unknown) => { throw redact(err); });
      const changed = !(running && before?.state === 'running');
      if (changed) await upsertServiceInstance(deps.store, { id, databaseId, serviceId, hostId: deps.hostId, state: 'creating' });
      return { changed };
    },

    /** Waits (≤5 min, pgEdge §7.3) until the instance answers its health check; then it is `running`. */
    async waitServiceInstance({ databaseId, serviceId }: ServiceInstanceKey): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const s = findService(db, serviceId);
      const id = serviceIds.instance(databaseId, serviceId, deps.hostId);
      const container = serviceIds.container(databaseId, serviceId, deps.hostId);
      let last: ServiceInstanceStatus | undefined;
      try {
        last = await pollUntil(`service instance ${id}`, serviceCreationTimeoutMs, async () => {
          const st = await observeServiceInstance(docker, databaseId, container, deps.hostAddress, s.version, s.service_type);
          last = st;
          return st.ready ? st : { waiting: st.health?.message ?? 'not healthy yet' };
        });
      } catch (err) {
        return fail(id, `creation timeout after 5m0s - ${last?.health?.message ?? (err as Error).message}`);
      }
      await setServiceInstanceState(deps.store, id, 'running', null, last);
    },

    /** Container, files and record of a service instance on this host; absent pieces are fine. Its user stays. */
    async removeServiceInstance({ databaseId, serviceId }: ServiceInstanceKey): Promise<void> {
      const id = serviceIds.instance(databaseId, serviceId, deps.hostId);
      if (await getServiceInstance(deps.store, id)) await setServiceInstanceState(deps.store, id, 'deleting', null);
      await removeContainer(docker, serviceIds.container(databaseId, serviceId, deps.hostId));
      await rm(serviceFilesDir(deps.dataDir, id), { recursive: true, force: true });
      await deleteServiceInstance(deps.store, id);
    },
  };
}
