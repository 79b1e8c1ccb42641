// The Temporal trigger: for a program that already runs a Temporal client (and reaches the control plane's store),
// the same operations the API starts, without HTTP. It is not a second implementation: the request is validated by
// the route's own zod schema (refusals carry the same Goa names), then api/database-commands.ts runs the same
// admission, store transition and startDatabaseTask as the route handler — the same workflow, search attributes and
// UUIDv7 task id — so the task shows in GET …/tasks and in the Temporal UI like any other. Refusals are
// PgcpApiError with the name and status the API would answer.
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import {
  createDatabaseCommand, deleteDatabaseCommand, updateDatabaseCommand, type CommandDeps,
} from '../api/database-commands.js';
import { databaseView } from '../api/database-view.js';
import { ApiError, validationErrorBody } from '../api/errors.js';
import { CreateDatabaseRequestSchema, UpdateDatabaseRequestSchema } from '../api/schemas/database-spec.js';
import { DatabaseIdParams } from '../api/schemas/database.js';
import { loadConfig, type Config } from '../platform/config.js';
import { createStore, type Store } from '../store/db.js';
import { dataConverter } from '../platform/payload-codec.js';
import { createSecretBox } from '../platform/secret-box.js';
import { loadSecretKey } from '../platform/secret-key.js';
import type { CreateDatabaseRequest, Database, Task, UpdateDatabaseRequest } from './client.js';
import { PgcpApiError, type PgcpErrorName } from './errors.js';

export interface TemporalTriggerOptions {
  /**
   * A client on the control plane's namespace, with the control plane's payload codec
   * (`dataConverter: pgcpDataConverter(key)`): without it, workers cannot read the tasks it starts.
   */
  temporal: Client;
  /** The control plane's store: a pg Pool, or its URL (the trigger then owns the pool: close() ends it). */
  store: Store | string;
  /** The control plane's configuration, for the admission checks that need it (its own ports); default: from env. */
  config?: Config;
  /** The control plane's secret key (it seals the store's secrets); default: PGCP_SECRET_KEY or its key file. */
  secretKey?: Buffer;
}

/** The data converter every client of the control plane's namespace must use (its payload codec). */
export function pgcpDataConverter(secretKey: Buffer = loadSecretKey(loadConfig().secretKey)) {
  return dataConverter(secretKey);
}

/** Validates as the route does: a refusal is the same PgcpApiError (name, message, 400) as over REST. */
function parse<S extends z.ZodType>(schema: S, target: string, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const body = validationErrorBody(target, r.error);
  throw new PgcpApiError(body.name as PgcpErrorName, body.message, 400, body);
}

/** The route's ApiError → the SDK's error type, so callers handle one kind of refusal. */
async function refusals<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw new PgcpApiError(err.errorName, err.message, err.status, { name: err.errorName, message: err.message });
    throw err;
  }
}

export type TemporalTrigger = ReturnType<typeof createTemporalTrigger>;

export function createTemporalTrigger(o: TemporalTriggerOptions) {
  const ownStore = typeof o.store === 'string';
  const config = o.config ?? loadConfig();
  const store = typeof o.store === 'string' ? createStore(o.store, createSecretBox(o.secretKey ?? loadSecretKey(config.secretKey))) : o.store;
  const deps: CommandDeps = { store, config, temporal: () => o.temporal };
  const view = (db: Parameters<typeof databaseView>[1]) => databaseView({ store }, db, true) as Promise<Database>;
  const databaseId = (id: string) => parse(DatabaseIdParams, 'database_id', { database_id: id }).database_id;

  return {
    /** POST /v1/databases, as a Temporal start. */
    createDatabase: (req: CreateDatabaseRequest): Promise<{ task: Task; database: Database }> => refusals(async () => {
      const { task, db } = await createDatabaseCommand(deps, parse(CreateDatabaseRequestSchema, 'json', req));
      return { task, database: await view(db) };
    }),
    /** POST /v1/databases/{id} (add or remove nodes and replicas, users, backups…); dryRun returns the plan only. */
    updateDatabase: (id: string, req: UpdateDatabaseRequest, u: { removeHosts?: string[]; dryRun?: boolean } = {}): Promise<{ task: Task; database: Database } | { plan: string[] }> => refusals(async () => {
      const r = await updateDatabaseCommand(deps, databaseId(id), parse(UpdateDatabaseRequestSchema, 'json', req), u);
      return 'plan' in r ? r : { task: r.task, database: await view(r.db) };
    }),
    /** DELETE /v1/databases/{id}. */
    deleteDatabase: (id: string, d: { force?: boolean } = {}): Promise<{ task: Task }> => refusals(() => deleteDatabaseCommand(deps, databaseId(id), d.force ?? false)),
    /** Ends the store pool when the trigger made it from a URL. */
    async close(): Promise<void> {
      if (ownStore) await store.end();
    },
  };
}
