// An API app over a fresh store, for app.request() tests.
import { inject } from 'vitest';
import { createApp } from '../../api/app.js';
import type { AppDeps } from '../../api/deps.js';
import { loadConfig } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { createTestStore, type TestStore } from './store.js';

export interface TestApp { app: ReturnType<typeof createApp>; deps: AppDeps; db: TestStore }

export async function createTestApp(overrides: Partial<AppDeps> = {}, existing?: TestStore): Promise<TestApp> {
  const stack = inject('stack');
  const db = existing ?? (await createTestStore(stack.storeUrl));
  const config = loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_STORE_URL: db.url, PGCP_ETCD_URL: stack.etcdUrl, PGCP_ETCD_PASSWORD_FILE: stack.etcdPasswordFile, PGCP_ETCD_CA_FILE: stack.etcdCaFile, PGCP_HEARTBEAT_MS: '1000' });
  const deps: AppDeps = {
    config,
    store: db.store,
    log: createLogger('silent', 'api-test'),
    version: { version: 'v0.0.0-test', revision: 'test', revision_time: '2026-01-01T00:00:00Z', arch: 'amd64' },
    ...overrides,
  };
  return { app: createApp(deps), deps, db };
}
