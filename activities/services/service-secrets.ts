// A service instance's secret-bearing files (issue 15): the MCP server's config.json and the pooler's userlist and
// pgbouncer.ini hold, or sit beside, `connect_as`'s password. Like an instance's (activities/docker/secret-delivery.ts)
// they live only on a tmpfs in the service container, delivered through `docker exec` with the files on stdin at
// every start: by ensureServiceInstance (creation, an update), by the host's monitor when Docker started the
// container by itself (its restart policy, an engine or host restart, a `docker start`), and — the pooler's ini
// alone — when the monitor points the pooler at its node's new primary. The container waits for them. Nothing with a
// password is written under the host's data directory; the MCP server's auth.json (hashes only) stays there.
import type Docker from 'dockerode';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { serviceIds, serviceTargets } from '../../workflows/model/services.js';
import { peerAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import { deliverFiles, hasTmpfsFor, isDelivered, secretTmpfsOf, waitLines, type DeliveryResult, type SecretMount } from '../docker/secret-delivery.js';
import type { Store } from '../../store/db.js';
import { mcpConfig } from './mcp-config.js';
import { poolerAuthFile, poolerIni, poolerUserlist, poolerTarget } from './pgbouncer.js';

/** The tmpfs in a service container holding its secret files. */
export const serviceSecretDir = '/run/pgcp';

export const serviceSecretPaths = {
  mcpConfig: `${serviceSecretDir}/config.json`,
  poolerIni: `${serviceSecretDir}/pgbouncer.ini`,
  poolerUserlist: poolerAuthFile,
} as const;

/** The user each image runs its program as (images/services/*.Dockerfile): the delivered files are its own. */
export function serviceSecretMount(type: ServiceSpec['service_type']): SecretMount {
  return { dirs: [serviceSecretDir], ready: `${serviceSecretDir}/ready`, owner: type === 'pgbouncer' ? 'pgcp-pooler' : 'root' };
}

/** Whether a service type's container can take its secrets in memory (its image has sh and python3). */
export const deliversSecrets = (type: ServiceSpec['service_type']) => type === 'mcp' || type === 'pgbouncer';

/** The program a service container runs once its files are delivered. */
function program(type: ServiceSpec['service_type']): string[] {
  if (type === 'pgbouncer') return ['pgbouncer', serviceSecretPaths.poolerIni];
  return ['node', '/app/server.mjs', serviceSecretPaths.mcpConfig];
}

/** The container's entrypoint and its tmpfs: wait for the delivery, then exec the program (pure). */
export function serviceBoot(type: ServiceSpec['service_type']): { Entrypoint: string[]; Tmpfs: Record<string, string> } {
  const m = serviceSecretMount(type);
  const script = ['set -eu', ...waitLines(m, "this service instance's configuration"), 'exec "$@"'].join('\n');
  return { Entrypoint: ['sh', '-c', script, 'pgcp-service', ...program(type)], Tmpfs: secretTmpfsOf(m) };
}

export interface ServiceTarget { dbname: string; user: string; password: string; hosts: { host: string; port: number }[] }

/** The service's secret files (pure): the MCP server's config.json; the pooler's userlist and its ini naming `primary`. */
export function serviceSecretFiles(s: ServiceSpec, target: ServiceTarget, primary: { host: string; port: number } | null): Record<string, string> {
  if (s.service_type === 'pgbouncer') {
    if (!primary) throw new Error('a pooler needs its node\'s primary');
    return { [serviceSecretPaths.poolerIni]: poolerIni(s, target.dbname, primary), [serviceSecretPaths.poolerUserlist]: poolerUserlist(target.user, target.password) };
  }
  return { [serviceSecretPaths.mcpConfig]: JSON.stringify(mcpConfig(s, target), null, 2) };
}

/** Where the service reaches the database from this host, with `connect_as`'s password; an error text if it cannot. */
export function serviceTarget(db: DatabaseContext, s: ServiceSpec, hostId: string): ServiceTarget | { error: string } {
  const password = db.secrets.servicePasswords?.[s.connect_as];
  if (password === undefined) return { error: `the password of connect_as user "${s.connect_as}" is not known: send it with the next update` };
  const hosts = serviceTargets(db.spec, db.instances, s, hostId).flatMap((inst) => {
    const a = peerAddress(db.topology, [hostId], inst);
    return a.postgresPort === null ? [] : [{ host: a.host, port: a.postgresPort }];
  });
  if (hosts.length === 0) return { error: `service ${s.service_id} on ${hostId} reaches no database instance: the target nodes on other Docker engines publish no port` };
  return { dbname: db.spec.database_name, user: s.connect_as, password, hosts };
}

/** Delivers the files into the running container; a running PgBouncer whose ini changed reloads it (SIGHUP). */
export async function deliverServiceFiles(docker: Docker, container: string, s: ServiceSpec, files: Record<string, string>, o: { onlyIfReady?: boolean } = {}): Promise<DeliveryResult & { reloaded: boolean }> {
  const r = await deliverFiles(docker, container, serviceSecretMount(s.service_type), { files, remove: [] }, { what: container, ...o });
  const reloaded = s.service_type === 'pgbouncer' && r.wasReady && r.changed.includes(serviceSecretPaths.poolerIni);
  if (reloaded) await docker.getContainer(container).kill({ signal: 'SIGHUP' });
  return { ...r, reloaded };
}

/**
 * The monitor's recovery: a running service container that waits for its files (Docker started it by itself) gets
 * them. False when it needs none (delivered already, an earlier version's container, no primary yet for a pooler).
 */
export async function redeliverIfWaiting(deps: { docker: Docker; store: Store; hostId: string }, db: DatabaseContext, s: ServiceSpec, container: string): Promise<boolean> {
  if (!deliversSecrets(s.service_type)) return false;
  const info = await deps.docker.getContainer(container).inspect().catch(() => null);
  if (!info?.State.Running || !hasTmpfsFor(info, serviceSecretMount(s.service_type))) return false;
  if (await isDelivered(deps.docker, container, serviceSecretMount(s.service_type))) return false;
  const target = serviceTarget(db, s, deps.hostId);
  if ('error' in target) throw new Error(target.error);
  const primary = s.service_type === 'pgbouncer' ? await poolerTarget(deps, db, s) : null;
  if (s.service_type === 'pgbouncer' && !primary) return false;
  await deliverServiceFiles(deps.docker, container, s, serviceSecretFiles(s, target, primary));
  return true;
}

/**
 * Points a running pooler at its node's current primary: delivers its pgbouncer.ini when it names another one (only
 * into a container that has its files: a waiting one gets all of them from redeliverIfWaiting), and PgBouncer reloads
 * it. `delivered` remembers, per container, the ini last delivered into which container id, so an unchanged round
 * costs no exec.
 */
export async function pointPooler(
  deps: { docker: Docker; store: Store; hostId: string }, db: DatabaseContext, s: ServiceSpec, containerId: string, delivered: Map<string, string>,
): Promise<{ target: { host: string; port: number } | null; moved: boolean }> {
  const target = await poolerTarget(deps, db, s);
  if (!target) return { target: null, moved: false };
  const ini = poolerIni(s, db.spec.database_name, target);
  const container = serviceIds.container(db.databaseId, s.service_id, deps.hostId);
  const known = `${containerId}\n${ini}`;
  if (delivered.get(container) === known) return { target, moved: false };
  const info = await deps.docker.getContainer(container).inspect().catch(() => null);
  if (!info?.State.Running || !hasTmpfsFor(info, serviceSecretMount(s.service_type))) return { target, moved: false };
  const r = await deliverServiceFiles(deps.docker, container, s, { [serviceSecretPaths.poolerIni]: ini }, { onlyIfReady: true });
  if (r.wasReady) delivered.set(container, known);
  return { target, moved: r.reloaded };
}
