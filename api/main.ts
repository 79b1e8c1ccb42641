// API process: the pgEdge-compatible HTTP API on :3000.
import { createStore, migrate } from '../store/db.js';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectClient } from '../platform/temporal.js';
import { createSecretBox } from '../platform/secret-box.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { createTracing, otlpSpanProcessor } from '../platform/tracing.js';
import { createApp } from './app.js';
import { readVersionInfo } from './version.js';
import { listen, reloadTls } from './serve.js';

const config = loadConfig();
const log = createLogger(config.logLevel, 'api');
const secretKey = loadSecretKey(config.secretKey);
const store = createStore(config.storeUrl, createSecretBox(secretKey));
await migrate(store);
const tracing = config.otlpTracesUrl ? createTracing('pgcp-api', otlpSpanProcessor(config.otlpTracesUrl)) : undefined;
const temporal = await connectClient(config.temporal.address, config.temporal.namespace, { secretKey, ...(tracing ? { plugins: [tracing.plugin] } : {}), tls: config.temporal.tls });
const app = createApp({ config, store, log, temporal, version: readVersionInfo(), ...(tracing ? { tracer: tracing.tracer } : {}) });

const { server, url } = await listen(app, config.api);
log.info({ address: url, mtls: config.api.tls !== null }, 'api listening');
const tls = config.api.tls;
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

const stop = () => {
  server.close(() => {
    void Promise.all([store.end(), temporal.connection.close(), tracing?.shutdown()]).then(() => process.exit(0));
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
