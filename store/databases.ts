// Databases (their instances are in store/instances.ts). The spec's secrets (user password verifiers,
// repository keys) and the generated secrets are sealed (store/sealing.ts); neither ever leaves through the API.
import { randomBytes } from 'node:crypto';
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import type { RepositorySecrets } from '../workflows/model/backup-repository.js';
import type { Store } from './db.js';
import { setInstanceStates } from './instances.js';
import { openSpec, sealContext, specColumns } from './sealing.js';

export type DatabaseState = 'creating' | 'modifying' | 'available' | 'deleting' | 'degraded' | 'failed' | 'restoring' | 'unknown';
export const modifiableStates: DatabaseState[] = ['available', 'degraded', 'failed'];
/** States a task moves a database into while it works; only that task's final write leaves them. */
export const transitionalStates: DatabaseState[] = ['creating', 'modifying', 'deleting', 'restoring'];

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

/** Inserts a new database (locked by `lock`, its create task, when given); null when the id is taken. */
export async function insertDatabase(store: Store, d: { id: string; tenantId: string | null; spec: DatabaseSpec; secrets: DatabaseSecrets; state: DatabaseState; lock?: { taskId: string; type: string } }): Promise<DatabaseRecord | null> {
  const spec = specColumns(store.box, d.id, d.spec);
  const { rows } = await store.query<DatabaseRow>(
    `INSERT INTO databases (id, tenant_id, spec, spec_sealed, secrets, state, lock_task_id, lock_type, locked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7::text IS NULL THEN NULL ELSE now() END) ON CONFLICT (id) DO NOTHING RETURNING ${columns}`,
    [d.id, d.tenantId, spec.spec, spec.sealed, store.box.seal(d.secrets, sealContext.secrets(d.id)), d.state, d.lock?.taskId ?? null, d.lock?.type ?? null],
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

/**
 * The database's lock: the task that may change the database now. Every mutating task holds it from its request to
 * its end, so two of them never run on one database at once; it is taken and released by compare-and-set, in the
 * same statement as the state change that goes with it.
 */
export interface DatabaseLock { taskId: string; type: string; /** How long it has been held, by the store's clock. */ ageMs: number }

export interface LockRequest {
  taskId: string;
  type: string;
  /** The states the database may be in (refused otherwise); 'any': no state condition. */
  from: DatabaseState[] | 'any';
  /** The state it moves to with the lock (unchanged when absent), and its new spec. */
  to?: DatabaseState;
  spec?: DatabaseSpec;
  /** Take it over from this holder (a task that is gone, or one a forced delete supersedes) instead of from nobody. */
  takeOverFrom?: string;
}

/**
 * Takes the lock for `l.taskId` when nobody holds it (or `takeOverFrom` does) and the state is one of `from`, in
 * one transaction with the row locked; null otherwise. Returns the record after, and the state and spec before (to
 * put back if the task cannot start).
 */
export async function lockDatabase(store: Store, id: string, l: LockRequest): Promise<{ db: DatabaseRecord; previous: { state: DatabaseState; spec: DatabaseSpec } } | null> {
  const cols = l.spec ? specColumns(store.box, id, l.spec) : null;
  const client = await store.connect();
  try {
    await client.query('BEGIN');
    const { rows: [old] } = await client.query<DatabaseRow & { lock_task_id: string | null }>(`SELECT ${columns}, lock_task_id FROM databases WHERE id = $1 FOR UPDATE`, [id]);
    const free = old && old.lock_task_id === (l.takeOverFrom ?? null);
    if (!old || !free || (l.from !== 'any' && !l.from.includes(old.state))) {
      await client.query('ROLLBACK');
      return null;
    }
    const { rows } = await client.query<DatabaseRow>(
      `UPDATE databases SET lock_task_id = $2, lock_type = $3, locked_at = now(), state = COALESCE($4, state),
         spec = COALESCE($5, spec), spec_sealed = COALESCE($6, spec_sealed), updated_at = now()
       WHERE id = $1 RETURNING ${columns}`,
      [id, l.taskId, l.type, l.to ?? null, cols?.spec ?? null, cols?.sealed ?? null],
    );
    await client.query('COMMIT');
    const before = recordOf(store)(old);
    return { db: recordOf(store)(rows[0]!), previous: { state: before.state, spec: before.spec } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function getDatabaseLock(store: Store, id: string): Promise<DatabaseLock | null> {
  const { rows } = await store.query<{ t: string | null; ty: string | null; age: number | null }>(
    'SELECT lock_task_id AS t, lock_type AS ty, (EXTRACT(EPOCH FROM now() - locked_at) * 1000)::float8 AS age FROM databases WHERE id = $1', [id]);
  const r = rows[0];
  return r?.t ? { taskId: r.t, type: r.ty ?? 'unknown', ageMs: r.age ?? 0 } : null;
}

/**
 * Releases the lock if `taskId` holds it, putting back `restore` (state and spec) when given: a start that failed.
 * Returns whether it held it.
 */
export async function unlockDatabase(store: Store, id: string, taskId: string, restore?: { state: DatabaseState; spec?: DatabaseSpec }): Promise<boolean> {
  const cols = restore?.spec ? specColumns(store.box, id, restore.spec) : null;
  const { rowCount } = await store.query(
    `UPDATE databases SET lock_task_id = NULL, lock_type = NULL, locked_at = NULL, state = COALESCE($3, state),
       spec = COALESCE($4, spec), spec_sealed = COALESCE($5, spec_sealed), updated_at = CASE WHEN $3::text IS NULL THEN updated_at ELSE now() END
     WHERE id = $1 AND lock_task_id = $2`,
    [id, taskId, restore?.state ?? null, cols?.spec ?? null, cols?.sealed ?? null],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * A task's own state write (compare-and-set): only from one of `from`, and only while `taskId` holds the lock — or
 * while nobody does (a task started before locks existed). A final state (not transitional) releases the lock.
 * Returns whether it was written: a task whose lock a forced delete took over writes nothing.
 */
export async function setDatabaseStateAsTask(store: Store, id: string, taskId: string, from: DatabaseState[], to: DatabaseState): Promise<boolean> {
  const release = !transitionalStates.includes(to);
  const { rowCount } = await store.query(
    `UPDATE databases SET state = $4, updated_at = now(),
       lock_task_id = CASE WHEN $5 THEN NULL ELSE lock_task_id END, lock_type = CASE WHEN $5 THEN NULL ELSE lock_type END,
       locked_at = CASE WHEN $5 THEN NULL ELSE locked_at END
     WHERE id = $1 AND state = ANY ($3) AND (lock_task_id = $2 OR lock_task_id IS NULL)`,
    [id, taskId, from, to, release],
  );
  return (rowCount ?? 0) > 0;
}

/** Databases the reconciler looks at: those locked, and those in a transitional state. */
export async function listLockedOrTransitional(store: Store): Promise<{ id: string; state: DatabaseState; lock: DatabaseLock | null; idleMs: number }[]> {
  const { rows } = await store.query<{ id: string; state: DatabaseState; t: string | null; ty: string | null; age: number | null; idle: number }>(
    `SELECT id, state, lock_task_id AS t, lock_type AS ty, (EXTRACT(EPOCH FROM now() - locked_at) * 1000)::float8 AS age,
       (EXTRACT(EPOCH FROM now() - updated_at) * 1000)::float8 AS idle
     FROM databases WHERE lock_task_id IS NOT NULL OR state = ANY ($1) ORDER BY id`,
    [transitionalStates],
  );
  return rows.map((r) => ({ id: r.id, state: r.state, idleMs: r.idle, lock: r.t ? { taskId: r.t, type: r.ty ?? 'unknown', ageMs: r.age ?? 0 } : null }));
}

/**
 * The reconciler's write: a database left in `state` (transitional) by a task that is gone (`lockTaskId`, or none)
 * becomes `failed`, its lock released and its in-progress instances failed — only if nothing changed meanwhile.
 */
export async function failAbandonedDatabase(store: Store, id: string, expected: { state: DatabaseState; lockTaskId: string | null }, error: string): Promise<boolean> {
  const { rowCount } = await store.query(
    `UPDATE databases SET state = 'failed', lock_task_id = NULL, lock_type = NULL, locked_at = NULL, updated_at = now()
     WHERE id = $1 AND state = $2 AND lock_task_id IS NOT DISTINCT FROM $3`,
    [id, expected.state, expected.lockTaskId],
  );
  if (!rowCount) return false;
  await setInstanceStates(store, id, 'failed', error, ['creating', 'modifying', 'deleting']);
  return true;
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
