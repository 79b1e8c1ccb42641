// Pure: store records and the monitor's last report → pgEdge Database and Instance objects.
import type { DatabaseRecord } from '../../store/databases.js';
import type { InstanceRecord, InstanceStatus } from '../../store/instances.js';
import { redactSpec } from '../../workflows/model/redact.js';
import type { Database, Instance, ServiceInstance } from '../schemas/database.js';
import type { ServiceInstanceRecord } from '../../store/services.js';
import { rfc3339 } from './time.js';

export const statusStaleMs = 10_000;

const modifying = ['stopping', 'stopped', 'starting', 'restarting', 'initializing new cluster', 'running custom bootstrap script', 'creating replica'];
const degraded = ['stop failed', 'crashed', 'start failed', 'restart failed', 'initdb failed', 'custom bootstrap failed'];

/** pgEdge's read-time state: only a stored `available` is derived from the live status. */
export function instanceState(stored: string, status: InstanceStatus | undefined, fresh: boolean, stopped = false): string {
  if (stored !== 'available') return stored;
  if (stopped) return 'stopped'; // stop-instance: down on purpose until start-instance
  if (!status || !fresh) return 'unknown';
  if (!status.containerRunning) return 'stopped';
  const p = status.patroniState ?? '';
  if (p === 'running' || p === 'streaming') return 'available';
  if (modifying.includes(p)) return 'modifying';
  if (degraded.includes(p)) return 'degraded';
  return 'unknown';
}

export function renderInstance(rec: InstanceRecord, observed: { updatedAt: Date; status: InstanceStatus } | undefined, hostAddress: string | undefined, now: Date): Instance {
  const fresh = !!observed && now.getTime() - observed.updatedAt.getTime() <= statusStaleMs;
  const s = fresh ? observed.status : undefined;
  const out: Instance = {
    id: rec.id,
    host_id: rec.hostId,
    node_name: rec.nodeName,
    created_at: rfc3339(rec.createdAt),
    updated_at: rfc3339(rec.updatedAt),
    state: instanceState(rec.state, observed?.status, fresh, rec.stopped),
  };
  if (observed) out.status_updated_at = rfc3339(observed.updatedAt);
  if (s?.port && hostAddress) out.connection_info = { addresses: [hostAddress], port: s.port };
  if (s?.patroniState) {
    out.postgres = {
      ...(s.postgresVersion ? { version: s.postgresVersion } : {}),
      patroni_state: s.patroniState,
      ...(s.role ? { role: s.role } : {}),
      pending_restart: s.pendingRestart ?? false,
    };
  }
  if (s?.role === 'primary' && s.replication) {
    out.spock = { read_only: s.replication.readOnly, version: s.replication.version, subscriptions: s.replication.subscriptions };
  }
  const error = rec.error ?? s?.error;
  if (error) out.error = error;
  return out;
}

/** A database is degraded while one of its instances is down, though no operation failed. */
export function databaseState(stored: string, instances: Instance[]): string {
  if (stored === 'available' && instances.some((i) => i.state === 'stopped' || i.state === 'degraded')) return 'degraded';
  return stored;
}

/** pgEdge §6.3: a service instance with the monitor's last report (stale reports show health unknown). */
export function renderServiceInstance(rec: ServiceInstanceRecord, now: Date): ServiceInstance {
  const s = rec.status;
  const fresh = !!rec.statusUpdatedAt && now.getTime() - rec.statusUpdatedAt.getTime() <= 3 * statusStaleMs;
  const out: ServiceInstance = {
    service_instance_id: rec.id,
    service_id: rec.serviceId,
    database_id: rec.databaseId,
    host_id: rec.hostId,
    state: rec.state,
    created_at: rfc3339(rec.createdAt),
    updated_at: rfc3339(rec.updatedAt),
  };
  if (s) {
    out.status = {
      ...(s.containerId ? { container_id: s.containerId } : {}),
      ...(s.imageVersion ? { image_version: s.imageVersion } : {}),
      ...(s.addresses ? { addresses: s.addresses } : {}),
      ...(s.ports ? { ports: s.ports } : {}),
      ...(s.health ? { health_check: { status: fresh ? s.health.status : 'unknown', ...(s.health.message ? { message: s.health.message } : {}), checked_at: rfc3339(new Date(s.health.checkedAt)) } } : {}),
      ...(s.lastHealthyAt ? { last_health_at: rfc3339(new Date(s.lastHealthyAt)) } : {}),
      service_ready: fresh && (s.ready ?? false),
    };
  }
  if (rec.error) out.error = rec.error;
  return out;
}

export function renderDatabase(db: DatabaseRecord, instances: Instance[], withSpec: boolean, services: ServiceInstance[] = []): Database {
  const out: Database = {
    id: db.id,
    ...(db.tenantId ? { tenant_id: db.tenantId } : {}),
    created_at: rfc3339(db.createdAt),
    updated_at: rfc3339(db.updatedAt),
    state: databaseState(db.state, instances),
  };
  if (instances.length > 0) out.instances = instances;
  // services are in the full view only (pgEdge's DatabaseSummary has none)
  if (withSpec && services.length > 0) out.service_instances = services;
  if (withSpec) out.spec = redactSpec(db.spec);
  return out;
}
