// Instances (one Postgres container of a node on a host) and the per-host monitor's observed status of each.
import type { RestoreConfigSpec } from '../api/schemas/database-spec.js';
import type { Store } from './db.js';
import { sealContext } from './sealing.js';

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

/** Writes an instance's state; with `from`, only over one of those states (compare-and-set): false when it did not. */
export async function setInstanceState(store: Store, id: string, state: string, from?: string[]): Promise<boolean> {
  const { rowCount } = await store.query(
    'UPDATE instances SET state = $2, updated_at = now() WHERE id = $1 AND ($3::text[] IS NULL OR state = ANY ($3))', [id, state, from ?? null]);
  return (rowCount ?? 0) > 0;
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
  /** pg_replication_slots.wal_status: reserved, extended, unreserved, or lost (invalidated: its reader can never catch up). */
  walStatus?: string;
}

/** syncState: pg_stat_replication.sync_state — `sync` for the replica the primary's commits wait for (the one Patroni may promote). */
export interface ReplicaLag { instanceId: string; state: string; syncState?: string; lagBytes: number; lagSeconds: number }

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
