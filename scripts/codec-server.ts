// The payload codec server (platform/codec-server.ts) as a process: `npm run codec-server`; npm start runs it and
// points the Temporal UI at it. PGCP_CODEC_BIND / PGCP_CODEC_PORT (127.0.0.1:8234), PGCP_CODEC_CORS_ORIGINS (the
// UI's origins), and the key as every process reads it (PGCP_SECRET_KEY or PGCP_SECRET_KEY_FILE).
import { serve } from '@hono/node-server';
import { loadConfig } from '../platform/config.js';
import { createCodecApp } from '../platform/codec-server.js';
import { EncryptionCodec } from '../platform/payload-codec.js';
import { loadSecretKey } from '../platform/secret-key.js';

const config = loadConfig();
const codec = new EncryptionCodec(loadSecretKey(config.secretKey));
const server = serve({ fetch: createCodecApp(codec, config.codec.corsOrigins).fetch, port: config.codec.port, hostname: config.codec.bind }, (info) => {
  console.log(`payload codec server on http://${info.address}:${info.port} (key ${codec.keyId}), for ${config.codec.corsOrigins.join(', ')}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
