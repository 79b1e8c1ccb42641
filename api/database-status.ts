// A database's status report from the store: its instances as the API shows them, plus the lag and backup facts
// the per-host monitors report on each primary. Pure `buildDatabaseStatus` (unit-tested) and the store read both
// the status route and the metrics use, so `pgcp status` and Prometheus never disagree.
import { type DatabaseRecord } from '../store/databases.js';
import { listInstances, listInstanceStatuses, type InstanceRecord, type InstanceStatus } from '../store/instances.js';
import type { Store } from '../store/db.js';
import { ids } from '../workflows/model/ids.js';
import { databaseState, renderInstance, statusStaleMs } from './render/database.js';
import { rfc3339 } from './render/time.js';
import type { DatabaseStatus } from './schemas/status.js';

type Observed = { updatedAt: Date; status: InstanceStatus };

export function buildDatabaseStatus(db: DatabaseRecord, records: InstanceRecord[], statuses: Map<string, Observed>, now: Date): DatabaseStatus {
  const fresh = (id: string) => {
    const o = statuses.get(id);
    return o && now.getTime() - o.updatedAt.getTime() <= statusStaleMs ? o.status : undefined;
  };
  const rendered = records.map((r) => renderInstance(r, statuses.get(r.id), undefined, now));
  const primaryOf = (node: string) => rendered.find((i) => i.node_name === node && i.postgres?.role === 'primary' && fresh(i.id));
  const nodeNames = db.spec.nodes.map((n) => n.name);

  const nodes = db.spec.nodes.map((n) => {
    const primary = primaryOf(n.name);
    // The primary's report, else the newest any member made (a node whose primary is down still had backups).
    const backup = (primary ? statuses.get(primary.id)?.status.backup : undefined)
      ?? records.filter((r) => r.nodeName === n.name).map((r) => statuses.get(r.id)?.status.backup).filter((b) => !!b).sort((a, b) => b!.checkedAt.localeCompare(a!.checkedAt))[0];
    return {
      name: n.name,
      host_ids: n.host_ids,
      ...(primary ? { primary_instance_id: primary.id } : {}),
      ...(backup ? {
        backup: {
          checked_at: backup.checkedAt,
          backup_count: backup.count,
          ...(backup.lastSuccessAt ? { last_success_at: backup.lastSuccessAt, last_success_age_seconds: Math.max(0, Math.round((now.getTime() - Date.parse(backup.lastSuccessAt)) / 1000)) } : {}),
          ...(backup.lastLabel ? { last_label: backup.lastLabel } : {}),
          ...(backup.lastType ? { last_type: backup.lastType } : {}),
          ...(backup.earliestRecoveryPoint ? { earliest_recovery_point: backup.earliestRecoveryPoint } : {}),
          ...(backup.error ? { error: backup.error } : {}),
        },
      } : {}),
    };
  });

  const instances = rendered.map((i) => ({
    id: i.id, node_name: i.node_name, host_id: i.host_id, state: i.state,
    ...(i.postgres?.role ? { role: i.postgres.role } : {}),
    ...(i.postgres?.patroni_state ? { patroni_state: i.postgres.patroni_state } : {}),
    ...(i.postgres?.version ? { postgres_version: i.postgres.version } : {}),
    ...(i.status_updated_at ? { status_updated_at: i.status_updated_at } : {}),
    ...(i.error ? { error: i.error } : {}),
  }));

  // Every ordered pair of nodes is a subscription: its status from the subscriber, its lag from the provider's slot.
  const subscriptions = nodeNames.flatMap((subscriber) => nodeNames.filter((p) => p !== subscriber).map((provider) => {
    const name = ids.subscription(subscriber, provider);
    const sub = primaryOf(subscriber);
    const prov = primaryOf(provider);
    const reported = sub ? fresh(sub.id)?.replication?.subscriptions.find((s) => s.name === name) : undefined;
    const slot = prov ? fresh(prov.id)?.lag?.slots.find((s) => s.subscription === name) : undefined;
    return {
      name, subscriber_node: subscriber, provider_node: provider, status: reported?.status ?? 'unknown',
      lag_bytes: slot?.lagBytes ?? null, lag_seconds: slot?.lagSeconds ?? null, slot_active: slot ? slot.active : null,
    };
  }));

  // A node's members other than its primary (a node of one instance has no replica, even while that one is down).
  const members = (node: string) => records.filter((r) => r.nodeName === node).length;
  const replicas = rendered.filter((i) => members(i.node_name) > 1 && primaryOf(i.node_name)?.id !== i.id).map((i) => {
    const primary = primaryOf(i.node_name);
    const stream = primary ? fresh(primary.id)?.lag?.replicas.find((r) => r.instanceId === i.id) : undefined;
    return { instance_id: i.id, node_name: i.node_name, host_id: i.host_id, state: stream?.state ?? i.state, ...(stream?.syncState ? { sync_state: stream.syncState } : {}), lag_bytes: stream?.lagBytes ?? null, lag_seconds: stream?.lagSeconds ?? null };
  });

  const slots = rendered.filter((i) => i.postgres?.role === 'primary').flatMap((i) => (fresh(i.id)?.lag?.slots ?? []).map((s) => ({
    instance_id: i.id, node_name: i.node_name, name: s.name, type: s.type, active: s.active, retained_bytes: s.retainedBytes,
    ...(s.walStatus ? { wal_status: s.walStatus } : {}),
  })));

  return { database_id: db.id, state: databaseState(db.state, rendered), observed_at: rfc3339(now), nodes, instances, subscriptions, replicas, slots };
}

export async function readDatabaseStatus(store: Store, db: DatabaseRecord, now: Date): Promise<DatabaseStatus> {
  const [records, statuses] = await Promise.all([listInstances(store, db.id), listInstanceStatuses(store, db.id)]);
  return buildDatabaseStatus(db, records, statuses, now);
}
