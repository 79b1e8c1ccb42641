import type { Store } from './db.js';

/** What a host is: written when it joins the cluster (init registers the local host). */
export interface HostRecord {
  id: string;
  dataDir: string;
  address: string;
  cpus: number;
  memoryBytes: number;
}

export interface ComponentStatus { healthy: boolean; error: string; details?: Record<string, unknown> }

/** What the host's worker last reported: written by its heartbeat. */
export interface HostStatusRecord {
  hostId: string;
  updatedAt: Date;
  components: Record<string, ComponentStatus>;
  /** dockerEngine: a key of the host's Docker engine (activities/docker/engine.ts), absent until it answered once. */
  details: { supportedVersions?: { postgres_version: string; spock_version: string; image?: string; extensions?: Record<string, string> }[]; dockerEngine?: string };
}

export async function upsertHost(store: Store, host: HostRecord): Promise<void> {
  await store.query(
    'INSERT INTO hosts (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record',
    [host.id, host],
  );
}

export async function listHosts(store: Store): Promise<HostRecord[]> {
  const { rows } = await store.query<{ record: HostRecord }>('SELECT record FROM hosts ORDER BY id');
  return rows.map((r) => r.record);
}

export async function getHost(store: Store, id: string): Promise<HostRecord | null> {
  const { rows } = await store.query<{ record: HostRecord }>('SELECT record FROM hosts WHERE id = $1', [id]);
  return rows[0]?.record ?? null;
}

export async function writeHostStatus(store: Store, status: Omit<HostStatusRecord, 'updatedAt'>): Promise<void> {
  await store.query(
    `INSERT INTO host_status (host_id, updated_at, components, details) VALUES ($1, now(), $2, $3)
     ON CONFLICT (host_id) DO UPDATE SET updated_at = now(), components = EXCLUDED.components, details = EXCLUDED.details`,
    [status.hostId, status.components, status.details],
  );
}

export async function listHostStatuses(store: Store): Promise<Map<string, HostStatusRecord>> {
  const { rows } = await store.query<{ host_id: string; updated_at: Date; components: HostStatusRecord['components']; details: HostStatusRecord['details'] }>(
    'SELECT host_id, updated_at, components, details FROM host_status',
  );
  return new Map(rows.map((r) => [r.host_id, { hostId: r.host_id, updatedAt: r.updated_at, components: r.components, details: r.details }]));
}

/** The host leaves the cluster: its record and its last status. True when it was there. */
export async function deleteHost(store: Store, id: string): Promise<boolean> {
  await store.query('DELETE FROM host_status WHERE host_id = $1', [id]);
  const { rowCount } = await store.query('DELETE FROM hosts WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
