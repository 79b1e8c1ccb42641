// The API's OpenAPI document without a running API: the app built over placeholder dependencies (routes only read
// them when a request comes), for scripts/generate-sdk-types.ts and the test that the SDK's types are current.
import type { Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import type { Store } from '../store/db.js';
import { createApp, openApiConfig } from './app.js';

/** The version in the generated types: fixed, so a release does not change them. */
export const documentVersion = 'v1';

export function openApiDocument() {
  const app = createApp({
    config: { docsScript: '', api: { port: 0, bind: '127.0.0.1', allowedHosts: [], tls: null, clientCert: null } } as unknown as Config,
    store: {} as Store,
    log: createLogger('silent', 'openapi'),
    version: { version: documentVersion, revision: '', revision_time: '', arch: '' },
  });
  return app.getOpenAPIDocument(openApiConfig(documentVersion));
}
