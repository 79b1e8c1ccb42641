// Databases, their instances and the monitor's observed status. The spec's secrets (user password verifiers,
// repository keys) and the generated secrets are sealed (store/sealing.ts); neither ever leaves through the API.
import { randomBytes } from 'node:crypto';
import type { DatabaseSpec, RestoreConfigSpec } from '../api/schemas/database-spec.js';
import type { RepositorySecrets } from '../workflows/model/backup-repository.js';
import type { Store } from './db.js';
import { openSpec, sealContext, specColumns } from './sealing.js';

export type DatabaseState = 'creating' | 'modifying' | 'available' | 'deleting' | 'degraded' | 'failed' | 'restoring' | 'unknown';
export const modifiableStates: DatabaseState[] = ['available', 'degraded', 'failed'];

/**
 * Generated per database: Postgres's superuser and replication passwords, its Patroni's etcd password (its etcd user
 * may use the database's keys only) and the password of its Patroni REST API (user `pgcp`; unsafe calls need it).
 */
export interface DatabaseSecrets {
  superuserPassword: string; replicationPassword: string; etcdPassword: string; patroniApiPassword: string;
  /** The passphrase of every pgBackRest repository of the database (aes-256-cbc); absent for databases created before repositories were encrypted, whose repositories stay plain. */
  repositoryCipherPass?: string;
  /** The clear password of each user a service connects as (services log in with it); username → password. */
  servicePasswords?: Record<string, string>;
}

const secret = () => randomBytes(24).toString('base64url');
export const newDatabaseSecrets = (): DatabaseSecrets => ({
  superuserPassword: secret(), replicationPassword: secret(), etcdPassword: secret(), patroniApiPassword: secret(),
  repositoryCipherPass: randomBytes(48).toString('base64url'),
});
const secretNames: (keyof DatabaseSecrets)[] = ['superuserPassword', 'replicationPassword', 'etcdPassword', 'patroniApiPassword'];

export interface DatabaseRecord {
  id: string;
  tenantId: string | null;
  spec: DatabaseSpec;
  state: DatabaseState;
  createdAt: Date;
  updatedAt: Date;
}

interface DatabaseRow { id: string; tenant_id: string | null; spec: DatabaseSpec; spec_sealed: unknown; state: DatabaseState; created_at: Date; updated_at: Date }
const columns = 'id, tenant_id, spec, spec_sealed, state, created_at, updated_at';
const recordOf = (store: Store) => (r: DatabaseRow): DatabaseRecord => ({
  id: r.id, tenantId: r.tenant_id, spec: openSpec(store.box, r.id, r), state: r.state, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Inserts a new database; null when the id is taken. */
export async function insertDatabase(store: Store, d: { id: string; tenantId: string | null; spec: DatabaseSpec; secrets: DatabaseSecrets; state: DatabaseState }): Promise<DatabaseRecord | null> {
  const spec = specColumns(store.box, d.id, d.spec);
  const { rows } = await store.query<DatabaseRow>(
    `INSERT INTO databases (id, tenant_id, spec, spec_sealed, secrets, state) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING ${columns}`,
    [d.id, d.tenantId, spec.spec, spec.sealed, store.box.seal(d.secrets, sealContext.secrets(d.id)), d.state],
  );
  return rows[0] ? recordOf(store)(rows[0]) : null;
}

export async function getDatabase(store: Store, id: string): Promise<DatabaseRecord | null> {
  const { rows } = await store.query<DatabaseRow>(`SELECT ${columns} FROM databases WHERE id = $1`, [id]);
  return rows[0] ? recordOf(store)(rows[0]) : null;
}

export async function listDatabases(store: Store): Promise<DatabaseRecord[]> {
  const { rows } = await store.query<DatabaseRow>(`SELECT ${columns} FROM databases ORDER BY id`);
  return rows.map(recordOf(store));
}

export async function getDatabaseSecrets(store: Store, id: string): Promise<{ spec: DatabaseSpec; secrets: DatabaseSecrets } | null> {
  const { rows } = await store.query<{ spec: DatabaseSpec; spec_sealed: unknown; secrets: unknown }>('SELECT spec, spec_sealed, secrets FROM databases WHERE id = $1', [id]);
  const r = rows[0];
  if (!r) return null;
  const secrets = store.box.open<DatabaseSecrets>(r.secrets as never, sealContext.secrets(id));
  if (secretNames.every((k) => typeof secrets[k] === 'string')) return { spec: openSpec(store.box, id, r), secrets };
  // A database made by an earlier version lacks the newer secrets: generated once. The write only lands on the row
  // as read (a concurrent reader that filled them first wins; this one reads again).
  const { repositoryCipherPass: _new, ...generated } = newDatabaseSecrets(); // its repositories stay plain: no passphrase
  const filled = { ...generated, ...secrets };
  await store.query('UPDATE databases SET secrets = $2 WHERE id = $1 AND secrets = $3', [id, store.box.seal(filled, sealContext.secrets(id)), r.secrets]);
  return getDatabaseSecrets(store, id);
}

/** The connect_as passwords of the database's services, replacing those kept before (read-modify-write of the sealed secrets). */
export async function setServicePasswords(store: Store, id: string, passwords: Record<string, string>): Promise<void> {
  const row = await getDatabaseSecrets(store, id);
  if (!row) return;
  const { servicePasswords: _old, ...rest } = row.secrets;
  const next: DatabaseSecrets = Object.keys(passwords).length ? { ...rest, servicePasswords: passwords } : rest;
  await store.query('UPDATE databases SET secrets = $2 WHERE id = $1', [id, store.box.seal(next, sealContext.secrets(id))]);
}

/**
 * The repository passphrase of a database, or of a deleted one (kept when it was deleted, so its backups stay
 * restorable); null: none (a database of an earlier version, with plain repositories) or never known.
 */
export async function getRepositoryCipherPass(store: Store, id: string): Promise<string | null> {
  const db = await getDatabaseSecrets(store, id);
  return db ? db.secrets.repositoryCipherPass ?? null : getRetiredCipherPass(store, id);
}

/** The passphrase a deleted database of this id left, if any. */
export async function getRetiredCipherPass(store: Store, id: string): Promise<string | null> {
  const { rows } = await store.query<{ c: unknown }>('SELECT cipher_pass AS c FROM retired_repository_keys WHERE database_id = $1', [id]);
  return rows[0] ? store.box.open<string>(rows[0].c as never, sealContext.retiredKey(id)) : null;
}

/**
 * New secrets for a database made under `id`: a database deleted under that id left its repository passphrase,
 * which the new one takes back (its repositories' directories, named after the id, hold backups made with it).
 */
export async function secretsForNewDatabase(store: Store, id: string): Promise<DatabaseSecrets> {
  const retired = await getRetiredCipherPass(store, id);
  return { ...newDatabaseSecrets(), ...(retired ? { repositoryCipherPass: retired } : {}) };
}

/** Atomically moves a database into `to` when it is in one of `from`; null when it is not (or is gone). */
export async function transitionDatabase(store: Store, id: string, from: DatabaseState[] | 'any', to: DatabaseState, spec?: DatabaseSpec): Promise<DatabaseRecord | null> {
  const cols = spec ? specColumns(store.box, id, spec) : null;
  const { rows } = await store.query<DatabaseRow>(
    `UPDATE databases SET state = $2, spec = COALESCE($4, spec), spec_sealed = COALESCE($5, spec_sealed), updated_at = now()
     WHERE id = $1 AND ($3::text[] IS NULL OR state = ANY ($3)) RETURNING ${columns}`,
    [id, to, from === 'any' ? null : from, cols?.spec ?? null, cols?.sealed ?? null],
  );
  return rows[0] ? recordOf(store)(rows[0]) : null;
}

/** The keys of the repository an in-place restore reads (see the restore route): apart from the workflow's input. */
export async function setRestoreSecrets(store: Store, id: string, secrets: RepositorySecrets | null): Promise<void> {
  await store.query('UPDATE databases SET restore_secrets = $2 WHERE id = $1', [id, secrets === null ? null : store.box.seal(secrets, sealContext.restoreSecrets(id))]);
}

export async function getRestoreSecrets(store: Store, id: string): Promise<RepositorySecrets> {
  const { rows } = await store.query<{ s: RepositorySecrets | null }>('SELECT restore_secrets AS s FROM databases WHERE id = $1', [id]);
  const s = rows[0]?.s;
  return s ? store.box.open(s, sealContext.restoreSecrets(id)) : {};
}

export async function getJoinedNodes(store: Store, id: string): Promise<string[]> {
  const { rows } = await store.query<{ joined: string[] }>('SELECT joined_nodes AS joined FROM databases WHERE id = $1', [id]);
  return rows[0]?.joined ?? [];
}

/** Adds (in order, once) or removes nodes from the joined list. */
export async function setNodesJoined(store: Store, id: string, nodeNames: string[], joined: boolean): Promise<void> {
  await store.query(
    joined
      ? `UPDATE databases SET joined_nodes = joined_nodes || ARRAY(SELECT n FROM unnest($2::text[]) AS n WHERE n <> ALL (joined_nodes)) WHERE id = $1`
      : `UPDATE databases SET joined_nodes = ARRAY(SELECT n FROM unnest(joined_nodes) AS n WHERE n <> ALL ($2::text[])) WHERE id = $1`,
    [id, nodeNames],
  );
}

/** The database's row; its repository passphrase is kept (sealed), so its backups stay restorable. */
export async function deleteDatabase(store: Store, id: string): Promise<void> {
  const pass = await getRepositoryCipherPass(store, id);
  if (pass) {
    await store.query(
      'INSERT INTO retired_repository_keys (database_id, cipher_pass) VALUES ($1, $2) ON CONFLICT (database_id) DO UPDATE SET cipher_pass = $2, retired_at = now()',
      [id, store.box.seal(pass, sealContext.retiredKey(id))],
    );
  }
  await store.query('DELETE FROM databases WHERE id = $1', [id]);
}

export interface InstanceRecord {
  id: string;
  databaseId: string;
  nodeName: string;
  hostId: string;
  state: string;
  error: string | null;
  /** Stopped by stop-instance: stays down until start-instance. */
  stopped: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface InstanceRow { id: string; database_id: string; node_name: string; host_id: string; state: string; error: string | null; stopped: boolean; created_at: Date; updated_at: Date }
const toInstance = (r: InstanceRow): InstanceRecord => ({
  id: r.id, databaseId: r.database_id, nodeName: r.node_name, hostId: r.host_id, state: r.state, error: r.error, stopped: r.stopped, createdAt: r.created_at, updatedAt: r.updated_at,
});

export async function upsertInstance(store: Store, i: { id: string; databaseId: string; nodeName: string; hostId: string; state: string }): Promise<void> {
  await store.query(
    `INSERT INTO instances (id, database_id, node_name, host_id, state) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, error = NULL, updated_at = now()`,
    [i.id, i.databaseId, i.nodeName, i.hostId, i.state],
  );
}

export async function setInstanceStates(store: Store, databaseId: string, state: string, error: string | null, onlyStates?: string[]): Promise<void> {
  await store.query(
    `UPDATE instances SET state = $2, error = $3, updated_at = now() WHERE database_id = $1 AND ($4::text[] IS NULL OR state = ANY ($4))`,
    [databaseId, state, error, onlyStates ?? null],
  );
}

export async function setInstanceState(store: Store, id: string, state: string): Promise<void> {
  await store.query('UPDATE instances SET state = $2, updated_at = now() WHERE id = $1', [id, state]);
}

export async function setInstanceStopped(store: Store, id: string, stopped: boolean): Promise<void> {
  await store.query('UPDATE instances SET stopped = $2, updated_at = now() WHERE id = $1', [id, stopped]);
}

export async function getInstance(store: Store, id: string): Promise<InstanceRecord | null> {
  const { rows } = await store.query<InstanceRow>('SELECT * FROM instances WHERE id = $1', [id]);
  return rows[0] ? toInstance(rows[0]) : null;
}

/** The source of the instance's in-place restore in progress (with its keys), sealed; null when it ends. */
export async function setInstanceRestoreSource(store: Store, id: string, source: RestoreConfigSpec | null): Promise<void> {
  await store.query('UPDATE instances SET restore_source = $2 WHERE id = $1', [id, source === null ? null : store.box.seal(source, sealContext.instanceRestoreSource(id))]);
}

export async function getInstanceRestoreSource(store: Store, id: string): Promise<RestoreConfigSpec | null> {
  const { rows } = await store.query<{ s: unknown }>('SELECT restore_source AS s FROM instances WHERE id = $1', [id]);
  const s = rows[0]?.s;
  return s ? store.box.open<RestoreConfigSpec>(s as never, sealContext.instanceRestoreSource(id)) : null;
}

export async function deleteInstance(store: Store, id: string): Promise<void> {
  await store.query('DELETE FROM instances WHERE id = $1', [id]);
}

export async function listInstances(store: Store, databaseId: string): Promise<InstanceRecord[]> {
  const { rows } = await store.query<InstanceRow>('SELECT * FROM instances WHERE database_id = $1 ORDER BY node_name, id', [databaseId]);
  return rows.map(toInstance);
}

export async function listInstancesOnHost(store: Store, hostId: string): Promise<InstanceRecord[]> {
  const { rows } = await store.query<InstanceRow>('SELECT * FROM instances WHERE host_id = $1 ORDER BY id', [hostId]);
  return rows.map(toInstance);
}

/** What the per-host monitor saw; the API derives the displayed state from it. */
export interface InstanceStatus {
  containerRunning: boolean;
  address?: string;
  port?: number;
  patroniState?: string;
  role?: 'primary' | 'replica';
  pendingRestart?: boolean;
  postgresVersion?: string;
  replication?: { readOnly: 'on' | 'off'; version: string; subscriptions: { provider_node: string; name: string; status: string }[] };
  /** On a primary: its WAL position, its slots (peers' subscriptions, replicas) and streaming replicas, with lag. */
  lag?: { walLsn: string; slots: SlotLag[]; replicas: ReplicaLag[] };
  /** On a primary with backups configured: what its repositories hold (refreshed less often than the rest). */
  backup?: BackupStatus;
  error?: string;
}

export interface SlotLag {
  name: string;
  type: 'logical' | 'physical';
  active: boolean;
  /** WAL kept for this slot (current position − restart_lsn). */
  retainedBytes: number;
  /** Logical slots: current position − what the reader confirmed, and for how long the WAL has been past it. */
  lagBytes?: number;
  lagSeconds?: number;
  /** The peer's subscription this slot serves, when it is one. */
  subscription?: string;
  subscriberNode?: string;
}

export interface ReplicaLag { instanceId: string; state: string; lagBytes: number; lagSeconds: number }

export interface BackupStatus { checkedAt: string; count: number; lastSuccessAt?: string; lastLabel?: string; lastType?: string; earliestRecoveryPoint?: string; error?: string }

export async function writeInstanceStatus(store: Store, instanceId: string, status: InstanceStatus): Promise<void> {
  await store.query(
    `INSERT INTO instance_status (instance_id, updated_at, status) SELECT $1, now(), $2 WHERE EXISTS (SELECT 1 FROM instances WHERE id = $1)
     ON CONFLICT (instance_id) DO UPDATE SET updated_at = now(), status = EXCLUDED.status`,
    [instanceId, status],
  );
}

export async function readInstanceStatus(store: Store, instanceId: string): Promise<{ updatedAt: Date; status: InstanceStatus } | null> {
  const { rows } = await store.query<{ updated_at: Date; status: InstanceStatus }>('SELECT updated_at, status FROM instance_status WHERE instance_id = $1', [instanceId]);
  return rows[0] ? { updatedAt: rows[0].updated_at, status: rows[0].status } : null;
}

/** The store's clock, which stamps the monitor's reports. */
export async function storeNow(store: Store): Promise<Date> {
  return (await store.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
}

export async function listInstanceStatuses(store: Store, databaseId: string): Promise<Map<string, { updatedAt: Date; status: InstanceStatus }>> {
  const { rows } = await store.query<{ instance_id: string; updated_at: Date; status: InstanceStatus }>(
    'SELECT s.instance_id, s.updated_at, s.status FROM instance_status s JOIN instances i ON i.id = s.instance_id WHERE i.database_id = $1',
    [databaseId],
  );
  return new Map(rows.map((r) => [r.instance_id, { updatedAt: r.updated_at, status: r.status }]));
}
