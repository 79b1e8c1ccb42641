// What a host learned when it joined a cluster (POST /v1/cluster/join): where the control plane's services are and
// its own credentials. Kept in its data directory, every file 0600 in 0700 directories, read by its API and its agent
// at start instead of PGCP_TEMPORAL_ADDRESS / PGCP_STORE_URL / PGCP_ETCD_URL and the root credentials:
//   cluster-membership.json  the services, its store role's URL (with its password), its etcd user and password,
//                            its client certificate (PEM); not the control plane's key nor the certificate's key
//   secret.key               the control plane's key (PGCP_SECRET_KEY_FILE), which the join hands over
//   pki/ca.crt, pki/host-client.crt, pki/host-client.key   for TLS to Temporal, the store and the API
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from './config.js';
import { keyId, parseSecretKey } from './secret-key.js';

/**
 * Credentials the existing server hands a joining host, issued for that host alone. `username`/`password`: its etcd
 * user (readwrite on Patroni's keys only); `ca_cert`, `client_cert`, `client_key`: PEM (base64), its client
 * certificate for the API, Temporal and the store, signed by the cluster's CA (when they speak TLS);
 * `server_cert`/`server_key`: not issued (a joining server brings its API's own). The names are the reference's
 * (ClusterJoinOptions.credentials); `secret_key` (base64) is ours: the control plane's key, which opens the store's
 * secrets and Temporal's payloads.
 */
export const JoinCredentialsSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  ca_cert: z.string().optional(),
  client_cert: z.string().optional(),
  client_key: z.string().optional(),
  server_cert: z.string().optional(),
  server_key: z.string().optional(),
  secret_key: z.string().optional(),
});

/** The internal join-options answer (POST /v1/internal/cluster/join-options), as the joining server stores it. */
export const JoinOptionsSchema = z.object({
  cluster_id: z.string(),
  /** The server that answered (its host id): it issued the credentials, and issues again (rotation). */
  leader: z.object({ name: z.string(), server_url: z.string() }),
  /** tls: Temporal's frontend speaks TLS (checked with the cluster CA; the host's client certificate is presented). */
  temporal: z.object({ address: z.string(), namespace: z.string(), tls: z.boolean().optional(), server_name: z.string().optional() }),
  /** A connection string with the host's own store role and password. */
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
/** The host's TLS files from its join. */
export const membershipPki = (dataDir: string) => {
  const dir = path.join(dataDir, 'pki');
  return { dir, ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'host-client.crt'), key: path.join(dir, 'host-client.key') };
};

export function readMembership(dataDir: string): Membership | null {
  const file = membershipFile(dataDir);
  if (!existsSync(file)) return null;
  return MembershipSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Written whole (a temporary file renamed over it), owner-only from its first byte. */
function writePrivate(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function writeMembership(dataDir: string, m: Membership): void {
  writePrivate(membershipFile(dataDir), `${JSON.stringify(m, null, 2)}\n`);
}

export function removeMembership(dataDir: string): void {
  rmSync(membershipFile(dataDir), { force: true });
}

const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/**
 * Keeps what a join handed over, each in its own 0600 file: the control plane's key where this host's processes
 * read it (refused when the operator configured another key), the client certificate and its key, then the
 * membership without the key and the certificate's key. The membership file is written last: the agent waits for it.
 */
export function keepJoin(config: Config, m: Membership): void {
  const { secret_key: secretKey, client_key: clientKey, ...credentials } = m.credentials;
  if (secretKey !== undefined) {
    const key = parseSecretKey(secretKey, 'the join\'s secret_key');
    if (config.secretKey.key !== undefined) {
      const mine = parseSecretKey(config.secretKey.key, 'PGCP_SECRET_KEY');
      if (keyId(mine) !== keyId(key)) throw new Error('PGCP_SECRET_KEY is not the cluster\'s key: unset it to take the key the join hands over');
    } else {
      writePrivate(config.secretKey.file, `${key.toString('base64')}\n`);
    }
  }
  const pki = membershipPki(config.dataDir);
  if (credentials.ca_cert) writePrivate(pki.ca, pem(credentials.ca_cert));
  if (credentials.client_cert && clientKey) {
    writePrivate(pki.cert, pem(credentials.client_cert));
    writePrivate(pki.key, pem(clientKey));
  }
  writeMembership(config.dataDir, { ...m, credentials });
}

/** The store URL with this host's CA file where the issuing server named its own (sslrootcert is a local path). */
function localStoreUrl(url: string, caFile: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('sslrootcert')) return url;
  u.searchParams.set('sslrootcert', caFile);
  return u.toString();
}

/** The configuration of a joined host: the services it learned, and its own credentials, replace the configured ones. */
export function withMembership(config: Config, m: Membership): Config {
  const pki = membershipPki(config.dataDir);
  const cert = m.credentials.client_cert ? { cert: pki.cert, key: pki.key } : null;
  const c = m.credentials;
  return {
    ...config,
    temporal: {
      ...config.temporal, address: m.temporal.address, namespace: m.temporal.namespace,
      tls: m.temporal.tls ? { caCert: pki.ca, clientCert: cert?.cert, clientKey: cert?.key, serverName: m.temporal.server_name } : null,
    },
    storeUrl: localStoreUrl(m.store.url, pki.ca),
    etcdUrl: m.etcd.client_urls[0]!,
    etcdCa: m.etcd.ca_cert ?? config.etcdCa,
    etcdHostsForContainers: m.etcd.container_hosts,
    etcdCredentials: c.username && c.password ? { user: c.username, password: c.password } : null,
    api: { ...config.api, clientCert: config.api.clientCert ?? cert },
    joinServerUrls: [m.leader.server_url],
  };
}
