// The store: desired specs, observed status, hosts and cluster identity, in Postgres through pg.
import pg from 'pg';
import type { SecretBox } from '../platform/secret-box.js';
import { sealClearRows } from './sealing.js';
import { sealClusterToken } from './cluster.js';

/** The pool, and the box that seals the secrets it keeps (platform/secret-box.ts): no secret is written in clear. */
export type Store = pg.Pool & { readonly box: SecretBox };

/** Ordered, append-only schema migrations. Never edit a shipped entry: add a new one. */
const migrations: readonly string[] = [
  `CREATE TABLE cluster (
     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     id text NOT NULL,
     token text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE hosts (
     id text PRIMARY KEY,
     record jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE host_status (
     host_id text PRIMARY KEY,
     updated_at timestamptz NOT NULL,
     components jsonb NOT NULL,
     details jsonb NOT NULL DEFAULT '{}'
   );`,
  `CREATE TABLE databases (
     id text PRIMARY KEY,
     tenant_id text,
     spec jsonb NOT NULL,
     secrets jsonb NOT NULL,
     state text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE instances (
     id text PRIMARY KEY,
     database_id text NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
     node_name text NOT NULL,
     host_id text NOT NULL,
     state text NOT NULL,
     error text,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX instances_by_host ON instances (host_id);
   CREATE TABLE instance_status (
     instance_id text PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
     updated_at timestamptz NOT NULL,
     status jsonb NOT NULL
   );`,
  // Nodes that finished joining: an update adds the others from scratch and converges these.
  `ALTER TABLE databases ADD COLUMN joined_nodes text[] NOT NULL DEFAULT '{}';
   UPDATE databases SET joined_nodes = ARRAY(SELECT n->>'name' FROM jsonb_array_elements(spec->'nodes') AS n)
   WHERE state IN ('available', 'degraded');`, // databases made before this: their nodes all run
  // stop-instance: the user wants it down; the monitor does not bring it back, an update does not start it.
  `ALTER TABLE instances ADD COLUMN stopped boolean NOT NULL DEFAULT false;`,
  // The repository keys of the restore in progress: kept here, never in the workflow's input (its history).
  `ALTER TABLE databases ADD COLUMN restore_secrets jsonb;`,
  // The spec with its secrets (password verifiers, repository keys, secret custom_options), sealed; `spec` keeps the
  // spec without them. Rows from before are sealed by sealClearRows (it needs the key, which SQL does not have).
  `ALTER TABLE databases ADD COLUMN spec_sealed jsonb;`,
  // The repository passphrase of a deleted database, sealed: its backups stay restorable (into a new database, or
  // a database made again under its id, which takes the passphrase back).
  `CREATE TABLE retired_repository_keys (database_id text PRIMARY KEY, cipher_pass jsonb NOT NULL, retired_at timestamptz NOT NULL DEFAULT now());`,
  // Supporting services: one record per service instance (a service on one host), with the monitor's last report.
  `CREATE TABLE service_instances (
     id text PRIMARY KEY,
     database_id text NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
     service_id text NOT NULL,
     host_id text NOT NULL,
     state text NOT NULL,
     error text,
     status jsonb,
     status_updated_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX service_instances_by_host ON service_instances (host_id);`,
  // The database's lock: the one task that may change it now (store/databases.ts lockDatabase), taken and released
  // by compare-and-set.
  `ALTER TABLE databases ADD COLUMN lock_task_id text, ADD COLUMN lock_type text, ADD COLUMN locked_at timestamptz;`,
  // The join token kept as a hash (compared in constant time) and sealed (GET /v1/cluster/join-token shows it), not
  // in clear; a clear token of an earlier version is moved there by sealClusterToken. Each joined host's own
  // credentials (its store role, etcd user and client certificate), by generation, so its removal revokes them; and
  // the certificates revoked, which the API refuses.
  `ALTER TABLE cluster ALTER COLUMN token DROP NOT NULL;
   ALTER TABLE cluster ADD COLUMN token_hash text, ADD COLUMN token_sealed jsonb;
   CREATE TABLE host_credentials (
     host_id text NOT NULL,
     generation int NOT NULL,
     store_role text NOT NULL,
     etcd_user text,
     cert_fingerprint text,
     cert_serial text,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (host_id, generation)
   );
   CREATE TABLE revoked_certificates (
     fingerprint text PRIMARY KEY,
     serial text NOT NULL,
     host_id text NOT NULL,
     revoked_at timestamptz NOT NULL DEFAULT now()
   );`,
  // The source of an in-place restore of the instance (with its repository's keys), sealed, from before its data is
  // restored until it leads: each start of its container gets the restore's configuration from it (its recovery's
  // restore_command reads it), never from a file.
  `ALTER TABLE instances ADD COLUMN restore_source jsonb;`,
];

export function createStore(url: string, box: SecretBox): Store {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  // An idle client's error (e.g. the store restarting) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return Object.assign(pool, { box });
}

/**
 * Applies pending migrations under an advisory lock, so concurrent processes migrate once; then seals what an older
 * version kept in clear.
 */
export async function migrate(store: Store): Promise<void> {
  const client = await store.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7432001)');
    // A joined host's own role may not create tables: nothing to create once the schema exists.
    const { rows: made } = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (!made[0]?.t) await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    for (let i = current; i < migrations.length; i++) {
      await client.query('BEGIN');
      await client.query(migrations[i]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
      await client.query('COMMIT');
    }
    await sealClearRows(client, store.box);
    await sealClusterToken(client, store.box);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.query('SELECT pg_advisory_unlock(7432001)').catch(() => undefined);
    client.release();
  }
}
