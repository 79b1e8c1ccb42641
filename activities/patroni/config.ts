// Pure: the Patroni configuration of one instance. Patroni reads YAML; JSON is YAML, so no YAML library is needed.

export interface PatroniConfigInput {
  instanceId: string;
  scope: string;
  /** etcd v3 endpoints as host:port, reachable from inside the container. */
  etcdHosts: string[];
  pgMajor: string;
  superuserPassword: string;
  replicationPassword: string;
  /** postgresql_conf of the node (database level merged with node level). */
  conf: Record<string, unknown>;
  hba: string[];
  ident: string[];
}

export const replicationUser = 'pgcp_replicator';
export const superUser = 'postgres';
export const dataDir = '/var/lib/postgresql/data/pgdata';
export const patroniApiPort = 8008;

/** Settings Patroni only takes from the DCS (applied at bootstrap; later through PATCH /config). */
export const dcsParameters = new Set([
  'max_connections', 'max_locks_per_transaction', 'max_worker_processes', 'max_prepared_transactions', 'wal_level',
  'track_commit_timestamp', 'max_wal_senders', 'max_replication_slots', 'wal_keep_size', 'wal_keep_segments', 'wal_log_hints', 'hot_standby',
]);

const defaults: Record<string, string | number> = {
  wal_level: 'logical',
  track_commit_timestamp: 'on',
  max_worker_processes: 32,
  max_replication_slots: 32,
  max_wal_senders: 32,
  max_connections: 200,
  wal_log_hints: 'on',
  hot_standby: 'on',
  password_encryption: 'scram-sha-256',
  'pglogical.conflict_resolution': 'last_update_wins',
  // Recent minor releases (15.20, 17.12, 18.6 here) only let replication users load listed output plugins.
  output_plugin_libraries: 'pgoutput, test_decoding, pglogical_output',
};

/** Libraries of pgEdge images this one does not have: spock's role is played by pglogical here. */
const unavailableLibraries: Record<string, string | null> = { spock: 'pglogical', snowflake: null, lolor: null };

export function preloadLibraries(requested: unknown): string {
  const libs = typeof requested === 'string' ? requested.split(',').map((l) => l.trim()).filter(Boolean) : [];
  const mapped = libs.map((l) => (l in unavailableLibraries ? unavailableLibraries[l] : l)).filter((l): l is string => !!l);
  return [...new Set(['pglogical', ...mapped])].join(',');
}

export function postgresParameters(conf: Record<string, unknown>): { dcs: Record<string, unknown>; local: Record<string, unknown> } {
  const lower = Object.fromEntries(Object.entries(conf).map(([k, v]) => [k.toLowerCase(), v])); // names are case-insensitive
  const merged: Record<string, unknown> = { ...defaults, ...lower, shared_preload_libraries: preloadLibraries(lower.shared_preload_libraries) };
  const dcs: Record<string, unknown> = {};
  const local: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) (dcsParameters.has(k.toLowerCase()) ? dcs : local)[k] = v;
  return { dcs, local };
}

/** System rules first, the user's lines next, the catch-all last (pgEdge's order). */
export function hbaLines(user: string[]): string[] {
  return [
    'local all all trust',
    `host replication ${replicationUser} 0.0.0.0/0 scram-sha-256`,
    `host all ${superUser} 0.0.0.0/0 scram-sha-256`,
    ...user,
    'host all all 0.0.0.0/0 scram-sha-256',
    'host all all ::/0 scram-sha-256',
  ];
}

export function patroniConfig(i: PatroniConfigInput): Record<string, unknown> {
  const params = postgresParameters(i.conf);
  return {
    scope: i.scope,
    namespace: '/pgcp/',
    name: i.instanceId,
    restapi: { listen: `0.0.0.0:${patroniApiPort}`, connect_address: `${i.instanceId}:${patroniApiPort}` },
    // use_proxies: talk to these endpoints only; etcd advertises 127.0.0.1, which inside a container is the container.
    etcd3: { hosts: i.etcdHosts, use_proxies: true },
    bootstrap: {
      dcs: {
        ttl: 10,
        loop_wait: 2,
        retry_timeout: 5,
        maximum_lag_on_failover: 1048576,
        postgresql: { use_pg_rewind: true, use_slots: true, parameters: params.dcs },
        // Patroni drops replication slots it does not know; the logical replication layer's are not its own.
        ignore_slots: [{ type: 'logical', plugin: 'pglogical_output' }, { type: 'logical', plugin: 'spock_output' }],
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: '0.0.0.0:5432',
      connect_address: `${i.instanceId}:5432`,
      data_dir: dataDir,
      bin_dir: `/usr/lib/postgresql/${i.pgMajor}/bin`,
      pgpass: '/tmp/pgpass0',
      authentication: {
        superuser: { username: superUser, password: i.superuserPassword },
        replication: { username: replicationUser, password: i.replicationPassword },
      },
      parameters: params.local,
      pg_hba: hbaLines(i.hba),
      pg_ident: i.ident,
      basebackup: [{ checkpoint: 'fast' }],
    },
    watchdog: { mode: 'off' },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}
