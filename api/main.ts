// API process: the pgEdge-compatible HTTP API on :3000.
import { serve } from '@hono/node-server';
import { createStore, migrate } from '../store/db.js';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectClient } from '../platform/temporal.js';
import { createSecretBox } from '../platform/secret-box.js';
import { loadSecretKey } from '../platform/secret-key.js';
import { createTracing, otlpSpanProcessor } from '../platform/tracing.js';
import { createApp } from './app.js';
import { readVersionInfo } from './version.js';

const config = loadConfig();
const log = createLogger(config.logLevel, 'api');
const secretKey = loadSecretKey(config.secretKey);
const store = createStore(config.storeUrl, createSecretBox(secretKey));
await migrate(store);
const tracing = config.otlpTracesUrl ? createTracing('pgcp-api', otlpSpanProcessor(config.otlpTracesUrl)) : undefined;
const temporal = await connectClient(config.temporal.address, config.temporal.namespace, { secretKey, ...(tracing ? { plugins: [tracing.plugin] } : {}) });
const app = createApp({ config, store, log, temporal, version: readVersionInfo(), ...(tracing ? { tracer: tracing.tracer } : {}) });

const server = serve({ fetch: app.fetch, port: config.api.port, hostname: config.api.bind }, (info) => {
  log.info({ address: `http://${info.address}:${info.port}` }, 'api listening');
});

const stop = () => {
  server.close(() => {
    void Promise.all([store.end(), temporal.connection.close(), tracing?.shutdown()]).then(() => process.exit(0));
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
