// The only module that reads process.env: one zod schema, parsed once per process entry point.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The ports the stack's own services listen on (scripts/stack.ts starts them there). */
export const stackPorts = { temporal: 7233, temporalUi: 8233, etcd: 2379, etcdPeer: 2380, store: 7432, codec: 8234 } as const;
export const portNames: Record<string, string> = {
  temporal: 'Temporal frontend', temporalUi: 'Temporal web UI', etcd: 'etcd client', etcdPeer: 'etcd peer',
  store: 'store Postgres', api: 'control plane API', codec: 'payload codec server',
};

/** host-N publishes on 127.0.0.N by default, so simulated hosts sharing one Docker engine never collide on ports. */
export function defaultHostAddress(hostId: string): string {
  const m = /^host-(\d+)$/.exec(hostId);
  const n = m ? Number(m[1]) : 1;
  return n >= 1 && n <= 254 ? `127.0.0.${n}` : '127.0.0.1';
}

/**
 * The docker0 bridge address: etcd also listens there so that Patroni inside containers reaches it. Read with `ip`:
 * Node lists only interfaces that are up, and docker0 is down while no container uses the default bridge.
 */
export function dockerBridgeAddress(): string | null {
  try {
    const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Where posix/cifs repositories may lie unless PGCP_REPOSITORY_ROOTS says otherwise (outside the data directory). */
export const defaultRepositoryRoot = '/var/lib/pgcp-backups';
/** mTLS on the API (files, PEM): the CA client certificates must chain to, and the server's certificate and key. */
export interface ApiTlsConfig { caCert: string; serverCert: string; serverKey: string }
export interface ApiConfig {
  port: number;
  bind: string;
  /** Host header names accepted besides the loopback ones (api/host-guard.ts). */
  allowedHosts: string[];
  tls: ApiTlsConfig | null;
  clientCert: { cert: string; key: string } | null;
}
export interface TemporalTlsConfig { caCert: string; clientCert: string | undefined; clientKey: string | undefined; serverName: string | undefined }
/** The stack's generated credentials (0600 files in a 0700 directory under the data directory; scripts/stack.ts). */
export function secretFiles(dataDir: string): { dir: string; store: string; etcdRoot: string } {
  const dir = path.join(dataDir, 'secrets');
  return { dir, store: path.join(dir, 'store-password'), etcdRoot: path.join(dir, 'etcd-root-password') };
}

/** The secret in `file` ([] when it is absent and optional). */
function readSecret(file: string, required: boolean): string[] {
  if (!required && !existsSync(file)) return [];
  return [readFileSync(file, 'utf8').trim()];
}

/** The store URL with the password of `file` when it names none. */
export function withStorePassword(url: string, file: string, required = false): string {
  const u = new URL(url);
  if (u.password) return url;
  const [password] = readSecret(file, required);
  if (password === undefined) return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}

const ConfigSchema = z
  .object({
    PGCP_HOST_ID: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,34}[a-z0-9])?$/).default('host-1'),
    /** Where this host's instances publish their ports and other hosts reach them (default 127.0.0.N). */
    PGCP_HOST_ADDRESS: z.string().optional(),
    /**
     * This host's Docker engine: `unix:///path/docker.sock` or `tcp://address:port` (default: the local socket). The
     * agent must run on that engine's machine: it reaches its own instances by their container addresses.
     */
    PGCP_DOCKER_HOST: z.string().regex(/^(unix:\/\/\/.+|tcp:\/\/[^:/]+:\d+)$/, 'unix:///path or tcp://address:port').optional(),
    PGCP_DATA_DIR: z.string().default(path.join(projectRoot, '.data')),
    PGCP_TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    PGCP_TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
    PGCP_NAMESPACE: z.string().default('pgcp'),
    /** Without a password in it, the one in PGCP_STORE_PASSWORD_FILE is used (`npm start` writes it at the store's initdb). */
    PGCP_STORE_URL: z.string().default('postgres://pgcp@127.0.0.1:7432/pgcp'),
    PGCP_STORE_PASSWORD_FILE: z.string().optional(),
    /** etcd serves client TLS (https) with a certificate of the cluster CA; Patroni in containers checks it too. */
    PGCP_ETCD_URL: z.string().default('https://127.0.0.1:2379'),
    /** The CA of etcd's server certificate (PEM; default <PKI dir>/ca.crt, which `npm start` makes). */
    PGCP_ETCD_CA_FILE: z.string().optional(),
    /** etcd's root user and the file with its password (default <data dir>/secrets/etcd-root-password); no file: no auth. */
    PGCP_ETCD_USER: z.string().default('root'),
    PGCP_ETCD_PASSWORD_FILE: z.string().optional(),
    /** The secret key (base64 of 32 bytes) sealing the store's secrets and Temporal's payloads; else PGCP_SECRET_KEY_FILE. */
    PGCP_SECRET_KEY: z.string().optional(),
    /** The file holding it (default <data dir>/secret.key, generated 0600 by the first process that starts). */
    PGCP_SECRET_KEY_FILE: z.string().optional(),
    /** The payload codec server (scripts/codec-server.ts): its port and the origins (the Temporal UI's) it answers. */
    PGCP_CODEC_PORT: z.coerce.number().int().min(1).max(65535).default(8234),
    PGCP_CODEC_BIND: z.string().default('127.0.0.1'),
    PGCP_CODEC_CORS_ORIGINS: z.string().optional(),
    /** etcd as containers reach it (comma-separated host:port); default: the docker0 address. */
    PGCP_ETCD_CONTAINER_HOSTS: z.string().optional(),
    PGCP_API_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    PGCP_API_BIND: z.string().default('127.0.0.1'),
    /** Host names the API answers besides localhost, 127.0.0.1 and [::1] while it listens on loopback (comma-separated). */
    PGCP_API_ALLOWED_HOSTS: z.string().optional(),
    /**
     * mTLS on the API, as the reference's http.ca_cert / server_cert / server_key (PEM files): with a CA set the API
     * speaks HTTPS only and refuses, in the TLS handshake, a client without a certificate that CA signed.
     * client_cert / client_key: this server's own client certificate for calls to another server.
     */
    PGCP_HTTP_CA_CERT: z.string().optional(),
    PGCP_HTTP_SERVER_CERT: z.string().optional(),
    PGCP_HTTP_SERVER_KEY: z.string().optional(),
    PGCP_HTTP_CLIENT_CERT: z.string().optional(),
    PGCP_HTTP_CLIENT_KEY: z.string().optional(),
    /** Where `npm run cert` keeps the cluster CA and the certificates it issues (default <data dir>/pki). */
    PGCP_PKI_DIR: z.string().optional(),
    /** TLS to Temporal's frontend: the CA that signed its certificate, and this process's client certificate. */
    PGCP_TEMPORAL_CA_CERT: z.string().optional(),
    PGCP_TEMPORAL_CLIENT_CERT: z.string().optional(),
    PGCP_TEMPORAL_CLIENT_KEY: z.string().optional(),
    /** The name Temporal's certificate is checked against (default: the host of PGCP_TEMPORAL_ADDRESS). */
    PGCP_TEMPORAL_SERVER_NAME: z.string().optional(),
    PGCP_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    PGCP_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
    PGCP_MONITOR_MS: z.coerce.number().int().min(100).default(3000),
    /** off: a dead primary is left to Patroni alone (its leader ttl); on: the monitor fails it over at once. */
    PGCP_FAST_FAILOVER: z.enum(['on', 'off']).default('on'),
    /**
     * Extra /etc/hosts entries of instance containers (comma-separated `name:address`, as `docker run --add-host`;
     * `host-gateway` is this host's docker0 address): object stores that only this host's resolver knows.
     */
    /** Scalar's standalone script, which /v1/docs serves (scripts/setup.sh fetches it into the cache). */
    PGCP_DOCS_SCRIPT: z.string().optional(),
    PGCP_CACHE_DIR: z.string().optional(),
    HOME: z.string().optional(),
    /** host:port where a worker process serves Temporal's worker and SDK metrics at /metrics (unset: none). */
    /** OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces): one trace per task; unset: no tracing. */
    PGCP_OTLP_TRACES_URL: z.string().url().optional(),
    PGCP_WORKER_METRICS_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'host:port').optional(),
    /**
     * Host directories under which posix/cifs repositories (`base_path`) may lie, comma-separated absolute paths. A
     * base_path elsewhere, inside the data directory, with `..` or through a symbolic link is refused.
     */
    PGCP_REPOSITORY_ROOTS: z.string().regex(/^\/[^,]*(,\/[^,]*)*$/, 'comma-separated absolute paths').default(defaultRepositoryRoot),
    /** `refuse`: a restore_config naming another database's backups is a 400 (default `allow`, a documented choice). */
    PGCP_CROSS_DATABASE_RESTORE: z.enum(['allow', 'refuse']).default('allow'),
    /**
     * This host's server joins an existing cluster by POST /v1/cluster/join (a token and an existing server's URL)
     * instead of using the Temporal, store and etcd configured here: until then its API answers only the join, and
     * its agent waits. What the join learns is kept in PGCP_DATA_DIR (platform/membership.ts).
     */
    PGCP_JOINS_CLUSTER: z.enum(['true', 'false', '1', '0']).default('false'),
    /**
     * What this server tells a joining host (POST /v1/internal/cluster/join-options) about where Temporal, the store
     * and etcd are: addresses the other machine reaches. Default: this server's own settings (one machine).
     */
    PGCP_ADVERTISE_TEMPORAL_ADDRESS: z.string().optional(),
    PGCP_ADVERTISE_STORE_URL: z.string().optional(),
    PGCP_ADVERTISE_ETCD_URL: z.string().optional(),
    PGCP_ADVERTISE_ETCD_CONTAINER_HOSTS: z.string().optional(),
    PGCP_CONTAINER_EXTRA_HOSTS: z.string().regex(/^([^:,\s]+:[^,\s]+)(,[^:,\s]+:[^,\s]+)*$/, 'comma-separated name:address pairs').optional(),
  })
  .superRefine((env, ctx) => {
    const need = (present: boolean, key: string, message: string) => { if (present) ctx.addIssue({ code: 'custom', path: [key], message }); };
    need(!!env.PGCP_HTTP_CA_CERT && !(env.PGCP_HTTP_SERVER_CERT && env.PGCP_HTTP_SERVER_KEY), 'PGCP_HTTP_CA_CERT', 'mTLS needs PGCP_HTTP_SERVER_CERT and PGCP_HTTP_SERVER_KEY too');
    need(!env.PGCP_HTTP_CA_CERT && !!(env.PGCP_HTTP_SERVER_CERT || env.PGCP_HTTP_SERVER_KEY), 'PGCP_HTTP_SERVER_CERT', 'HTTPS is on only with PGCP_HTTP_CA_CERT (mTLS), as in the reference');
    need(!!env.PGCP_HTTP_CLIENT_CERT !== !!env.PGCP_HTTP_CLIENT_KEY, 'PGCP_HTTP_CLIENT_CERT', 'PGCP_HTTP_CLIENT_CERT and PGCP_HTTP_CLIENT_KEY go together');
    need(!!env.PGCP_TEMPORAL_CLIENT_CERT !== !!env.PGCP_TEMPORAL_CLIENT_KEY, 'PGCP_TEMPORAL_CLIENT_CERT', 'PGCP_TEMPORAL_CLIENT_CERT and PGCP_TEMPORAL_CLIENT_KEY go together');
    need(!env.PGCP_TEMPORAL_CA_CERT && !!env.PGCP_TEMPORAL_CLIENT_CERT, 'PGCP_TEMPORAL_CLIENT_CERT', 'TLS to Temporal is on only with PGCP_TEMPORAL_CA_CERT');
  })
  .transform((env) => ({
    hostId: env.PGCP_HOST_ID,
    hostAddress: env.PGCP_HOST_ADDRESS ?? defaultHostAddress(env.PGCP_HOST_ID),
    dockerHost: env.PGCP_DOCKER_HOST ?? null,
    dataDir: env.PGCP_DATA_DIR,
    temporal: {
      address: env.PGCP_TEMPORAL_ADDRESS, namespace: env.PGCP_NAMESPACE, uiPort: env.PGCP_TEMPORAL_UI_PORT,
      tls: env.PGCP_TEMPORAL_CA_CERT
        ? { caCert: env.PGCP_TEMPORAL_CA_CERT, clientCert: env.PGCP_TEMPORAL_CLIENT_CERT, clientKey: env.PGCP_TEMPORAL_CLIENT_KEY, serverName: env.PGCP_TEMPORAL_SERVER_NAME }
        : null,
    } as { address: string; namespace: string; uiPort: number; tls: TemporalTlsConfig | null },
    storeUrl: withStorePassword(env.PGCP_STORE_URL, env.PGCP_STORE_PASSWORD_FILE ?? secretFiles(env.PGCP_DATA_DIR).store, env.PGCP_STORE_PASSWORD_FILE !== undefined),
    etcdUrl: env.PGCP_ETCD_URL,
    /** PEM of etcd's CA for an https URL (null: http, or no such file yet). */
    etcdCa: env.PGCP_ETCD_URL.startsWith('https:')
      ? readSecret(env.PGCP_ETCD_CA_FILE ?? path.join(env.PGCP_PKI_DIR ?? path.join(env.PGCP_DATA_DIR, 'pki'), 'ca.crt'), env.PGCP_ETCD_CA_FILE !== undefined).map((pem) => `${pem}\n`)[0] ?? null
      : null,
    etcdPasswordFile: env.PGCP_ETCD_PASSWORD_FILE ?? secretFiles(env.PGCP_DATA_DIR).etcdRoot,
    etcdCredentials: readSecret(env.PGCP_ETCD_PASSWORD_FILE ?? secretFiles(env.PGCP_DATA_DIR).etcdRoot, env.PGCP_ETCD_PASSWORD_FILE !== undefined)
      .map((password) => ({ user: env.PGCP_ETCD_USER, password }))[0] ?? null,
    secretKey: { key: env.PGCP_SECRET_KEY, file: env.PGCP_SECRET_KEY_FILE ?? path.join(env.PGCP_DATA_DIR, 'secret.key') },
    codec: {
      port: env.PGCP_CODEC_PORT, bind: env.PGCP_CODEC_BIND,
      corsOrigins: env.PGCP_CODEC_CORS_ORIGINS?.split(',') ?? [`http://127.0.0.1:${env.PGCP_TEMPORAL_UI_PORT}`, `http://localhost:${env.PGCP_TEMPORAL_UI_PORT}`],
    },
    etcdHostsForContainers: (env.PGCP_ETCD_CONTAINER_HOSTS ?? `${dockerBridgeAddress() ?? '172.17.0.1'}:${new URL(env.PGCP_ETCD_URL).port || '2379'}`).split(','),
    api: {
      port: env.PGCP_API_PORT, bind: env.PGCP_API_BIND,
      allowedHosts: env.PGCP_API_ALLOWED_HOSTS?.split(',').map((h) => h.trim()).filter(Boolean) ?? [],
      tls: env.PGCP_HTTP_CA_CERT && env.PGCP_HTTP_SERVER_CERT && env.PGCP_HTTP_SERVER_KEY
        ? { caCert: env.PGCP_HTTP_CA_CERT, serverCert: env.PGCP_HTTP_SERVER_CERT, serverKey: env.PGCP_HTTP_SERVER_KEY }
        : null,
      clientCert: env.PGCP_HTTP_CLIENT_CERT && env.PGCP_HTTP_CLIENT_KEY ? { cert: env.PGCP_HTTP_CLIENT_CERT, key: env.PGCP_HTTP_CLIENT_KEY } : null,
    } as ApiConfig,
    pkiDir: env.PGCP_PKI_DIR ?? path.join(env.PGCP_DATA_DIR, 'pki'),
    logLevel: env.PGCP_LOG_LEVEL,
    heartbeatMs: env.PGCP_HEARTBEAT_MS,
    monitorMs: env.PGCP_MONITOR_MS,
    fastFailover: env.PGCP_FAST_FAILOVER === 'on',
    containerExtraHosts: env.PGCP_CONTAINER_EXTRA_HOSTS?.split(',') ?? [],
    repositoryRoots: env.PGCP_REPOSITORY_ROOTS.split(','),
    crossDatabaseRestore: env.PGCP_CROSS_DATABASE_RESTORE,
    docsScript: env.PGCP_DOCS_SCRIPT ?? path.join(env.PGCP_CACHE_DIR ?? path.join(env.HOME ?? '/root', '.cache', 'pgcp'), 'scalar', 'standalone.js'),
    workerMetricsAddress: env.PGCP_WORKER_METRICS_ADDRESS,
    otlpTracesUrl: env.PGCP_OTLP_TRACES_URL,
    joinsCluster: env.PGCP_JOINS_CLUSTER === 'true' || env.PGCP_JOINS_CLUSTER === '1',
    /** A joined host: the server that issued its credentials, which a join token shown here sends new hosts to. */
    joinServerUrls: null as string[] | null,
    advertise: {
      temporalAddress: env.PGCP_ADVERTISE_TEMPORAL_ADDRESS,
      storeUrl: env.PGCP_ADVERTISE_STORE_URL,
      etcdUrl: env.PGCP_ADVERTISE_ETCD_URL,
      etcdContainerHosts: env.PGCP_ADVERTISE_ETCD_CONTAINER_HOSTS?.split(','),
    },
  }));

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  return { ...ConfigSchema.parse(env), ...overrides };
}

/** Every port the control plane itself uses, by default and as configured: no database instance may publish on one. */
export function controlPlanePorts(config: Config): Map<number, string> {
  const out = new Map<number, string>(Object.entries(stackPorts).map(([k, p]) => [p, portNames[k] ?? k]));
  const portOf = (url: string) => Number(/:(\d+)(?:\/|$)/.exec(url)?.[1] ?? NaN);
  const configured: [number, string][] = [
    [config.api.port, portNames.api!], [config.temporal.uiPort, portNames.temporalUi!], [portOf(config.temporal.address), portNames.temporal!],
    [portOf(config.storeUrl), portNames.store!], [portOf(config.etcdUrl), portNames.etcd!], [config.codec.port, portNames.codec!],
  ];
  for (const [port, name] of configured) if (Number.isInteger(port) && !out.has(port)) out.set(port, name);
  return out;
}
