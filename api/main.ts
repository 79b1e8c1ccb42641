// API process: the pgEdge-compatible HTTP API on :3000. A server started to join a cluster (PGCP_JOINS_CLUSTER)
// answers only the join until it has joined (api/join-app.ts), then serves the full API over the Temporal and store
// it learned; once joined, it starts with them directly.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { tlsFetch } from '../sdk/tls-fetch.js';
import { createStore, migrate } from '../store/db.js';
import { upsertHost } from '../store/hosts.js';
import { loadConfig, type Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { readMembership, withMembership } from '../platform/membership.js';
import { onMembershipChange } from '../platform/membership-watch.js';
import { connectClient } from '../platform/temporal.js';
import { createSecretBox } from '../platform/secret-box.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { createTracing, otlpSpanProcessor } from '../platform/tracing.js';
import { createApp } from './app.js';
import { createJoinApp } from './join-app.js';
import { readVersionInfo } from './version.js';
import { listen, reloadTls } from './serve.js';

const base = loadConfig();
const log = createLogger(base.logLevel, 'api');
const version = readVersionInfo();
const tracing = base.otlpTracesUrl ? createTracing('pgcp-api', otlpSpanProcessor(base.otlpTracesUrl)) : undefined;

// The control plane's key: the same on every machine. A server started to join gets it from the join (it is read
// once the join wrote it, never generated here).
async function fullApi(config: Config) {
  const secretKey = loadSecretKey(config.secretKey);
  const store = createStore(config.storeUrl, createSecretBox(secretKey));
  try {
    await migrate(store);
    const temporal = await connectClient(config.temporal.address, config.temporal.namespace, { secretKey, ...(tracing ? { plugins: [tracing.plugin] } : {}), tls: config.temporal.tls });
    const app = createApp({ config, store, log, temporal, version, secretKey, ...(tracing ? { tracer: tracing.tracer } : {}) });
    return { app, store, close: () => Promise.all([store.end(), temporal.connection.close()]) };
  } catch (err) {
    await store.end();
    throw err;
  }
}

/** A rotation of this host's credentials (npm run rotate-credentials) rewrites its membership: restart on the new ones. */
function restartOnRotation() {
  onMembershipChange(base.dataDir, () => {
    log.info('this host\'s credentials changed: stopping, to be started again on them');
    stop();
    setTimeout(() => process.exit(0), 15_000).unref(); // whatever still holds the old credentials goes too
  });
}

let fetchNow: (req: Request) => Response | Promise<Response>;
let close: () => Promise<unknown> = async () => undefined;
const membership = base.joinsCluster ? readMembership(base.dataDir) : null;
if (base.joinsCluster && !membership) {
  log.info('not in a cluster yet: waiting for POST /v1/cluster/join');
  // With mTLS, the join's call presents this server's client certificate and checks the member's with its CA.
  const c = base.api.clientCert;
  const joinFetch = c ? tlsFetch({ ...(base.api.tls ? { ca: readFileSync(base.api.tls.caCert) } : {}), cert: readFileSync(c.cert), key: readFileSync(c.key) }) : undefined;
  fetchNow = createJoinApp({
    config: base, log, version,
    ...(joinFetch ? { fetch: ((input: string | URL | Request, init?: RequestInit) => joinFetch(new Request(input, init))) as typeof fetch } : {}),
    onJoined: async (m) => {
      const config = withMembership(base, m);
      const api = await fullApi(config);
      try {
        await upsertHost(api.store, { id: config.hostId, address: config.hostAddress, dataDir: config.dataDir, cpus: os.cpus().length, memoryBytes: os.totalmem() });
      } catch (err) {
        await api.close();
        throw err;
      }
      fetchNow = api.app.fetch;
      close = api.close;
      restartOnRotation();
    },
  }).fetch;
} else {
  const api = await fullApi(membership ? withMembership(base, membership) : base);
  fetchNow = api.app.fetch;
  close = api.close;
  if (membership) restartOnRotation();
}

const { server, url } = await listen({ fetch: (req) => fetchNow(req) }, base.api);
log.info({ address: url, mtls: base.api.tls !== null }, 'api listening');
const tls = base.api.tls;
if (tls) {
  process.on('SIGHUP', () => {
    try {
      reloadTls(server, tls);
      log.info('TLS certificates reloaded');
    } catch (err) {
      log.error({ err }, 'TLS certificates not reloaded: the previous ones stay in use');
    }
  });
}


function stop() {
  server.close(() => {
    void Promise.all([close(), tracing?.shutdown()]).then(() => process.exit(0));
  });
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
