// The pooler (`service_type: pgbouncer`, an extension of this control plane): PgBouncer pooling one node's database
// for `connect_as`, pointed at that node's current primary. Its files are rendered here (pure) and delivered into
// its container's tmpfs (service-secrets.ts); `pointPooler` there delivers a new pgbouncer.ini when the primary
// moved and sends PgBouncer SIGHUP, which reloads it without dropping clients (in transaction pooling, server
// connections go to the new primary as they are next used). The host's monitor calls it every round, so a
// switchover, failover or restore is followed without an API call.
import type Docker from 'dockerode';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { serviceContainerPort, serviceTargets } from '../../workflows/model/services.js';
import { getPatroniCluster } from '../patroni/client.js';
import { instanceAddress, peerAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import type { Store } from '../../store/db.js';

/** Where PgBouncer reads its users (the container's tmpfs, service-secrets.ts). */
export const poolerAuthFile = '/run/pgcp/userlist.txt';

const quoteUser = (s: string) => `"${s.replace(/"/g, '""')}"`;
const connValue = (v: string | number) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** pgbouncer.ini without the [databases] target: what decides whether the container must be made again. */
export function poolerSettings(s: ServiceSpec): string {
  const c = s.config ?? {};
  return [
    '[pgbouncer]',
    'listen_addr = 0.0.0.0',
    `listen_port = ${serviceContainerPort}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${poolerAuthFile}`,
    `pool_mode = ${typeof c.pool_mode === 'string' ? c.pool_mode : 'transaction'}`,
    `default_pool_size = ${typeof c.default_pool_size === 'number' ? c.default_pool_size : 20}`,
    `max_client_conn = ${typeof c.max_client_conn === 'number' ? c.max_client_conn : 200}`,
    'server_reset_query = DISCARD ALL',
    'ignore_startup_parameters = extra_float_digits,options',
    // a member being demoted is dropped at once, and a dead one is found within seconds
    'server_check_delay = 1',
    'server_connect_timeout = 3',
    'server_login_retry = 1',
    'admin_users =',
    '',
  ].join('\n');
}

export function poolerIni(s: ServiceSpec, dbname: string, target: { host: string; port: number }): string {
  return `[databases]\n${dbname} = host=${connValue(target.host)} port=${target.port} dbname=${connValue(dbname)}\n\n${poolerSettings(s)}`;
}

export function poolerUserlist(user: string, password: string): string {
  return `${quoteUser(user)} ${quoteUser(password)}\n`;
}

/** The node a pooler pools: its target node, else the node with an instance on its host, else the first. */
export function poolerNode(db: Pick<DatabaseContext, 'spec' | 'instances'>, s: ServiceSpec, hostId: string): string {
  return serviceTargets(db.spec, db.instances, s, hostId)[0]!.nodeName;
}

/** Where the pooler's container reaches the node's current primary, or null while the node has no leader. */
export async function poolerTarget(deps: { docker: Docker; store: Store; hostId: string }, db: DatabaseContext, s: ServiceSpec): Promise<{ host: string; port: number } | null> {
  const node = poolerNode(db, s, deps.hostId);
  for (const m of db.instances.filter((i) => i.nodeName === node)) {
    const ip = await instanceAddress(deps, db.databaseId, m.instanceId);
    const leader = ip ? (await getPatroniCluster(ip))?.leader : null;
    const plan = leader ? db.instances.find((i) => i.instanceId === leader) : undefined;
    if (plan) {
      const a = peerAddress(db.topology, [deps.hostId], plan);
      return a.postgresPort === null ? null : { host: a.host, port: a.postgresPort };
    }
  }
  return null;
}
