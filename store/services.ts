// Service instances of supporting services (pgEdge §6.3): what the workflows recorded (state, error) and what the
// host's monitor last saw (status: container, addresses, ports, health).
import type { Store } from './db.js';

export type ServiceInstanceState = 'creating' | 'running' | 'failed' | 'deleting';

export interface ServiceInstanceStatus {
  containerId?: string;
  imageVersion?: string;
  addresses?: string[];
  ports?: { name: string; container_port?: number; host_port?: number }[];
  health?: { status: 'healthy' | 'unhealthy' | 'unknown'; message?: string; checkedAt: string };
  lastHealthyAt?: string;
  ready?: boolean;
}

export interface ServiceInstanceRecord {
  id: string;
  databaseId: string;
  serviceId: string;
  hostId: string;
  state: ServiceInstanceState;
  error: string | null;
  status: ServiceInstanceStatus | null;
  statusUpdatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row { id: string; database_id: string; service_id: string; host_id: string; state: ServiceInstanceState; error: string | null; status: ServiceInstanceStatus | null; status_updated_at: Date | null; created_at: Date; updated_at: Date }
const toRecord = (r: Row): ServiceInstanceRecord => ({
  id: r.id, databaseId: r.database_id, serviceId: r.service_id, hostId: r.host_id, state: r.state, error: r.error, status: r.status,
  statusUpdatedAt: r.status_updated_at, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Made in `state`, or moved to it (its error cleared); updated_at bumped either way. */
export async function upsertServiceInstance(store: Store, i: { id: string; databaseId: string; serviceId: string; hostId: string; state: ServiceInstanceState }): Promise<void> {
  await store.query(
    `INSERT INTO service_instances (id, database_id, service_id, host_id, state) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, error = NULL, updated_at = now()`,
    [i.id, i.databaseId, i.serviceId, i.hostId, i.state],
  );
}

export async function setServiceInstanceState(store: Store, id: string, state: ServiceInstanceState, error: string | null, status?: ServiceInstanceStatus): Promise<void> {
  await store.query(
    `UPDATE service_instances SET state = $2, error = $3, status = COALESCE($4, status), status_updated_at = CASE WHEN $4::jsonb IS NULL THEN status_updated_at ELSE now() END, updated_at = now() WHERE id = $1`,
    [id, state, error, status ? JSON.stringify(status) : null],
  );
}

/** The monitor's report; with `state`, only from one of `from` (creating and deleting belong to the workflows). */
export async function writeServiceInstanceStatus(store: Store, id: string, status: ServiceInstanceStatus, move?: { from: ServiceInstanceState[]; to: ServiceInstanceState; error: string | null }): Promise<void> {
  await store.query(
    `UPDATE service_instances SET status = $2, status_updated_at = now(),
       state = CASE WHEN $3::text IS NOT NULL AND state = ANY ($4::text[]) THEN $3 ELSE state END,
       error = CASE WHEN $3::text IS NOT NULL AND state = ANY ($4::text[]) THEN $5 ELSE error END,
       updated_at = CASE WHEN $3::text IS NOT NULL AND state = ANY ($4::text[]) THEN now() ELSE updated_at END
     WHERE id = $1`,
    [id, JSON.stringify(status), move?.to ?? null, move?.from ?? [], move?.error ?? null],
  );
}

export async function deleteServiceInstance(store: Store, id: string): Promise<void> {
  await store.query('DELETE FROM service_instances WHERE id = $1', [id]);
}

export async function getServiceInstance(store: Store, id: string): Promise<ServiceInstanceRecord | null> {
  const { rows } = await store.query<Row>('SELECT * FROM service_instances WHERE id = $1', [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listServiceInstances(store: Store, databaseId: string): Promise<ServiceInstanceRecord[]> {
  const { rows } = await store.query<Row>('SELECT * FROM service_instances WHERE database_id = $1 ORDER BY service_id, host_id', [databaseId]);
  return rows.map(toRecord);
}

export async function listServiceInstancesOnHost(store: Store, hostId: string): Promise<ServiceInstanceRecord[]> {
  const { rows } = await store.query<Row>('SELECT * FROM service_instances WHERE host_id = $1 ORDER BY id', [hostId]);
  return rows.map(toRecord);
}

/** A failed task: its service instances still being made or removed are failed with it. */
export async function failServiceInstancesInProgress(store: Store, databaseId: string, error: string): Promise<void> {
  await store.query(`UPDATE service_instances SET state = 'failed', error = $2, updated_at = now() WHERE database_id = $1 AND state IN ('creating', 'deleting')`, [databaseId, error]);
}
