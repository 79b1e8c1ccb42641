// API process: the pgEdge-compatible HTTP API on :3000.
import { serve } from '@hono/node-server';
import { createStore, migrate } from '../store/db.js';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectClient } from '../platform/temporal.js';
import { createApp } from './app.js';
import { readVersionInfo } from './version.js';

const config = loadConfig();
const log = createLogger(config.logLevel, 'api');
const store = createStore(config.storeUrl);
await migrate(store);
const temporal = await connectClient(config.temporal.address, config.temporal.namespace);
const app = createApp({ config, store, log, temporal, version: readVersionInfo() });

const server = serve({ fetch: app.fetch, port: config.api.port, hostname: config.api.bind }, (info) => {
  log.info({ address: `http://${info.address}:${info.port}` }, 'api listening');
});

const stop = () => {
  server.close(() => {
    void Promise.all([store.end(), temporal.connection.close()]).then(() => process.exit(0));
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
