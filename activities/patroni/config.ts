// Pure: the Patroni configuration of one instance. Patroni reads YAML; JSON is YAML, so no YAML library is needed.
import { ids } from '../../workflows/model/ids.js';
import { inContainer } from '../docker/instance-files.js';
import { preloadEntries, unavailableLibraries } from '../../workflows/model/validate-preload.js';

export interface PatroniConfigInput {
  instanceId: string;
  scope: string;
  /** etcd v3 endpoints as host:port, reachable from inside the container. */
  etcdHosts: string[];
  /** The database's own etcd user (readwrite on its keys only); null when etcd runs without authentication. */
  etcdCredentials: { username: string; password: string } | null;
  /** etcd serves TLS: https, with its CA certificate inside the container (null: the system's roots); null: http. */
  etcdTls?: { caFile: string | null } | null;
  /** Patroni's REST API password (user patroniApiUser): its unsafe calls (switchover, restart, PATCH /config) need it. */
  restApiPassword: string;
  pgMajor: string;
  superuserPassword: string;
  replicationPassword: string;
  /** postgresql_conf of the node (database level merged with node level). */
  conf: Record<string, unknown>;
  hba: string[];
  ident: string[];
  /** archive_command of the node (pgBackRest when it has backups); archive_mode is always on. */
  archiveCommand?: string;
  /** host:port the other members reach this one at (activities/addresses.ts); default: the container name. */
  connectAddress?: { postgres: string; restapi: string };
}

export const replicationUser = 'pgcp_replicator';
export const superUser = 'postgres';
export const patroniApiPort = 8008;
/** The user of every Patroni REST API (activities/patroni/client.ts sends it with the database's password). */
export const patroniApiUser = 'pgcp';
/** Patroni's loop_wait: how often each member's HA loop runs (and reads the DCS configuration again). */
export const patroniLoopWaitMs = 2000;

const defaults: Record<string, string | number> = {
  wal_level: 'logical',
  track_commit_timestamp: 'on',
  max_worker_processes: 32,
  max_replication_slots: 32,
  // A slot nobody reads (a subscriber gone for days, a join that left one) keeps WAL without limit: past this much,
  // Postgres invalidates the slot instead of filling the disk (its subscriber must then be joined again). A node's
  // postgresql_conf may set another bound, or -1 for none.
  max_slot_wal_keep_size: '4GB',
  max_wal_senders: 32,
  max_connections: 200,
  wal_log_hints: 'on',
  hot_standby: 'on',
  password_encryption: 'scram-sha-256',
  'pglogical.conflict_resolution': 'last_update_wins',
};


export function preloadLibraries(requested: unknown): string {
  const libs = typeof requested === 'string' ? preloadEntries(requested) : [];
  const mapped = libs.map((l) => (l in unavailableLibraries ? unavailableLibraries[l] : l)).filter((l): l is string => !!l);
  return [...new Set(['pglogical', ...mapped])].join(',');
}

/** The node's Postgres parameters: defaults, then the user's (names are case-insensitive), preload list completed. */
export function postgresParameters(conf: Record<string, unknown>, archiveCommand = '/bin/true'): Record<string, unknown> {
  const lower = Object.fromEntries(Object.entries(conf).map(([k, v]) => [k.toLowerCase(), v]));
  // archive_mode needs a restart, archive_command only a reload: always on, so adding backups later restarts nothing.
  const merged: Record<string, unknown> = {
    ...defaults, ...lower, shared_preload_libraries: preloadLibraries(lower.shared_preload_libraries), archive_mode: 'on', archive_command: archiveCommand,
  };
  return merged;
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

/**
 * What lives in the DCS, shared by the node's members and changed at runtime with PATCH /config: every Postgres
 * parameter and the hba / ident lines. None of it is repeated in the local file, whose values would win over the
 * DCS and freeze them.
 */
export function dynamicPostgresConfig(i: Pick<PatroniConfigInput, 'conf' | 'hba' | 'ident' | 'archiveCommand'>): { parameters: Record<string, unknown>; pg_hba: string[]; pg_ident: string[] } {
  return { parameters: postgresParameters(i.conf, i.archiveCommand), pg_hba: hbaLines(i.hba), pg_ident: i.ident };
}

/** The PATCH /config body turning `current` (GET /config's postgresql section) into `desired`: removed keys → null. */
export function configPatch(current: { parameters?: Record<string, unknown>; pg_hba?: string[]; pg_ident?: string[] } | undefined, desired: ReturnType<typeof dynamicPostgresConfig>): Record<string, unknown> | null {
  const parameters: Record<string, unknown> = {};
  for (const k of Object.keys(current?.parameters ?? {})) if (!(k in desired.parameters)) parameters[k] = null;
  for (const [k, v] of Object.entries(desired.parameters)) if (String(current?.parameters?.[k]) !== String(v)) parameters[k] = v;
  const patch: Record<string, unknown> = {};
  if (Object.keys(parameters).length > 0) patch.parameters = parameters;
  if (JSON.stringify(current?.pg_hba ?? []) !== JSON.stringify(desired.pg_hba)) patch.pg_hba = desired.pg_hba;
  if (JSON.stringify(current?.pg_ident ?? []) !== JSON.stringify(desired.pg_ident)) patch.pg_ident = desired.pg_ident;
  return Object.keys(patch).length > 0 ? { postgresql: patch } : null;
}

export function patroniConfig(i: PatroniConfigInput): Record<string, unknown> {
  const dynamic = dynamicPostgresConfig(i);
  return {
    scope: i.scope,
    namespace: ids.patroniNamespace,
    name: i.instanceId,
    restapi: {
      listen: `0.0.0.0:${patroniApiPort}`, connect_address: i.connectAddress?.restapi ?? `${i.instanceId}:${patroniApiPort}`,
      authentication: { username: patroniApiUser, password: i.restApiPassword },
    },
    // use_proxies: talk to these endpoints only; etcd advertises 127.0.0.1, which inside a container is the container.
    etcd3: { hosts: i.etcdHosts, use_proxies: true, ...(i.etcdCredentials ?? {}), ...(i.etcdTls ? { protocol: 'https', ...(i.etcdTls.caFile ? { cacert: i.etcdTls.caFile } : {}) } : {}) },
    bootstrap: {
      dcs: {
        ttl: 10,
        loop_wait: patroniLoopWaitMs / 1000,
        retry_timeout: 5,
        maximum_lag_on_failover: 1048576,
        // etcd down (the control plane stopped) does not demote a primary that still reaches every member's REST
        // API: without it every leader turns read-only within its ttl. Patroni reads it from the DCS only.
        failsafe_mode: true,
        // A commit on a node with replicas returns once a replica holds it, and Patroni promotes only such a replica:
        // a failover (a killed primary, or one frozen and fenced) loses no acknowledged row, nor a peer's rows whose
        // slot the primary had confirmed. Not strict: with no replica streaming, the primary keeps taking writes.
        synchronous_mode: true,
        postgresql: { use_pg_rewind: true, use_slots: true, ...dynamic },
        // Patroni drops replication slots it does not know; the logical replication layer's are not its own.
        ignore_slots: [{ type: 'logical', plugin: 'pglogical_output' }, { type: 'logical', plugin: 'spock_output' }],
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: '0.0.0.0:5432',
      connect_address: i.connectAddress?.postgres ?? `${i.instanceId}:5432`,
      data_dir: inContainer.pgdata,
      bin_dir: `/usr/lib/postgresql/${i.pgMajor}/bin`,
      pgpass: inContainer.pgpass, // tmpfs: it holds the replication and superuser passwords
      authentication: {
        superuser: { username: superUser, password: i.superuserPassword },
        replication: { username: replicationUser, password: i.replicationPassword },
      },
      basebackup: [{ checkpoint: 'fast' }],
    },
    watchdog: { mode: 'off' },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}
