// Human output of the CLI: aligned tables and the `pgcp status` report (in the manner of `kubectl cnpg status`).
// Pure functions of the SDK's types, unit-tested; --json prints the SDK's objects as they are instead.
import type { Database, DatabaseStatus, Task, TaskLogEntry } from './client.js';

export function table(headers: string[], rows: (string | number | undefined | null)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ')).join('\n');
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return 'n/a';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.round((s % 86400) / 3600)}h`;
}

export function logLine(e: TaskLogEntry): string {
  const host = typeof e.fields?.host_id === 'string' ? ` [${e.fields.host_id}]` : '';
  return `${e.timestamp}${host} ${e.message}`;
}

export function taskLine(t: Task): string {
  return `task ${t.task_id} (${t.type}) ${t.status}${t.error ? `: ${t.error}` : ''}`;
}

export function formatDatabase(d: Database): string {
  const head = `Database ${d.id}  state: ${d.state}${d.spec ? `  postgres ${d.spec.postgres_version ?? '?'}  database_name: ${d.spec.database_name}` : ''}`;
  if (!d.instances?.length) return head;
  return `${head}\n\n${table(['INSTANCE', 'NODE', 'HOST', 'STATE', 'ROLE', 'ADDRESS'], d.instances.map((i) => [
    i.id, i.node_name, i.host_id, i.state, i.postgres?.role, i.connection_info ? `${i.connection_info.addresses.join(',')}:${i.connection_info.port}` : undefined,
  ]))}`;
}

export function formatStatus(s: DatabaseStatus): string {
  const out: string[] = [`Database ${s.database_id}`, `State:       ${s.state}`, `Observed at: ${s.observed_at}`, ''];
  out.push('Nodes', table(['NODE', 'HOSTS', 'PRIMARY'], s.nodes.map((n) => [n.name, n.host_ids.join(','), n.primary_instance_id])), '');
  out.push('Instances', table(['INSTANCE', 'NODE', 'HOST', 'ROLE', 'STATE', 'PATRONI', 'VERSION', 'ERROR'], s.instances.map((i) => [
    i.id, i.node_name, i.host_id, i.role, i.state, i.patroni_state, i.postgres_version, i.error,
  ])), '');
  out.push('Replication (subscriptions; lag measured on the provider)');
  out.push(s.subscriptions.length
    ? table(['SUBSCRIPTION', 'SUBSCRIBER', 'PROVIDER', 'STATUS', 'CONNECTED', 'LAG BYTES', 'LAG'], s.subscriptions.map((x) => [
      x.name, x.subscriber_node, x.provider_node, x.status, x.slot_active === null ? 'n/a' : x.slot_active ? 'yes' : 'no', bytes(x.lag_bytes), seconds(x.lag_seconds),
    ]))
    : '  (single node: no subscriptions)', '');
  out.push('Replicas');
  out.push(s.replicas.length
    ? table(['REPLICA', 'NODE', 'HOST', 'STATE', 'SYNC', 'LAG BYTES', 'LAG'], s.replicas.map((r) => [r.instance_id, r.node_name, r.host_id, r.state, r.sync_state ?? '', bytes(r.lag_bytes), seconds(r.lag_seconds)]))
    : '  (none)', '');
  out.push('Replication slots (WAL retained)');
  out.push(s.slots.length ? table(['INSTANCE', 'SLOT', 'TYPE', 'ACTIVE', 'RETAINED', 'WAL'], s.slots.map((x) => [x.instance_id, x.name, x.type, x.active ? 'yes' : 'no', bytes(x.retained_bytes), x.wal_status ?? ''])) : '  (none)', '');
  out.push('Backups');
  const withBackups = s.nodes.filter((n) => n.backup);
  out.push(withBackups.length
    ? table(['NODE', 'BACKUPS', 'LAST SUCCESSFUL', 'AGE', 'TYPE', 'EARLIEST RECOVERY POINT', 'ERROR'], withBackups.map((n) => [
      n.name, n.backup!.backup_count, n.backup!.last_success_at, n.backup!.last_success_age_seconds === undefined ? undefined : seconds(n.backup!.last_success_age_seconds),
      n.backup!.last_type, n.backup!.earliest_recovery_point, n.backup!.error,
    ]))
    : '  (no node has backup_config)');
  return out.join('\n');
}
