import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { Store } from '../store/db.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';

export interface AppDeps {
  config: Config;
  store: Store;
  log: Logger;
  /** Absent in API tests that exercise only validation and store-backed endpoints. */
  temporal?: Client;
  version: { version: string; revision: string; revision_time: string; arch: string };
  now?: () => Date;
  /** The control plane's key: a server that issues a joining host's credentials hands it over in the join. */
  secretKey?: Buffer;
  /** Set when tracing is on (platform/tracing.ts): a span per request, in which tasks start. */
  tracer?: Tracer;
}

/** The Temporal client, for routes that start or read tasks (API tests of validation run without one). */
export function requireTemporal(deps: AppDeps): Client {
  if (!deps.temporal) throw new Error('no Temporal client configured');
  return deps.temporal;
}
