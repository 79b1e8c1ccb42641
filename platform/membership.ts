// What a host learned when it joined a cluster (POST /v1/cluster/join): where the control plane's services are and
// the credentials it was given. Kept in its data directory (the file 0600, the directory 0700), read by its API and
// its agent at start instead of PGCP_TEMPORAL_ADDRESS / PGCP_STORE_URL / PGCP_ETCD_URL. Nothing else is kept.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from './config.js';

/**
 * Credentials the existing server hands a joining host. Every field is optional: each is filled by the work that
 * needs it. `username`/`password`: the host's etcd user (tenant isolation: per-database etcd users, etcd auth on);
 * `ca_cert`, `client_cert`, `client_key`: PEM (base64), the host's client certificate for the API, Temporal and the
 * store (mTLS), signed by the cluster's CA; `server_cert`/`server_key`: its API's own certificate. The names are the
 * reference's (ClusterJoinOptions.credentials).
 */
export const JoinCredentialsSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  ca_cert: z.string().optional(),
  client_cert: z.string().optional(),
  client_key: z.string().optional(),
  server_cert: z.string().optional(),
  server_key: z.string().optional(),
});

/** The internal join-options answer (POST /v1/internal/cluster/join-options), as the joining server stores it. */
export const JoinOptionsSchema = z.object({
  cluster_id: z.string(),
  /** The server that answered (its host id). */
  leader: z.object({ name: z.string(), server_url: z.string() }),
  temporal: z.object({ address: z.string(), namespace: z.string() }),
  /** A connection string: it carries the store's credentials. */
  store: z.object({ url: z.string() }),
  /**
   * etcd for the agent (client_urls) and for Patroni in its containers (container_hosts, host:port); ca_cert: PEM of
   * the CA of etcd's server certificate (etcd serves TLS).
   */
  etcd: z.object({ client_urls: z.array(z.string()).min(1), container_hosts: z.array(z.string()).min(1), ca_cert: z.string().optional() }),
  credentials: JoinCredentialsSchema,
});
export type JoinOptions = z.infer<typeof JoinOptionsSchema>;

export const MembershipSchema = JoinOptionsSchema.extend({ host_id: z.string(), joined_at: z.string() });
export type Membership = z.infer<typeof MembershipSchema>;

export const membershipFile = (dataDir: string) => path.join(dataDir, 'cluster-membership.json');

export function readMembership(dataDir: string): Membership | null {
  const file = membershipFile(dataDir);
  if (!existsSync(file)) return null;
  return MembershipSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Written whole (a temporary file renamed over it), owner-only from its first byte. */
export function writeMembership(dataDir: string, m: Membership): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = membershipFile(dataDir);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function removeMembership(dataDir: string): void {
  rmSync(membershipFile(dataDir), { force: true });
}

/** The configuration of a joined host: the services it learned replace the configured ones. */
export function withMembership(config: Config, m: Membership): Config {
  return {
    ...config,
    temporal: { ...config.temporal, address: m.temporal.address, namespace: m.temporal.namespace },
    storeUrl: m.store.url,
    etcdUrl: m.etcd.client_urls[0]!,
    etcdCa: m.etcd.ca_cert ?? config.etcdCa,
    etcdHostsForContainers: m.etcd.container_hosts,
  };
}
