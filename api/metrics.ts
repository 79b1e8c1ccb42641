// GET /metrics in Prometheus's text format (prom-client): the API's own request counts and latencies, and — read at
// scrape time — per-instance role and state, replication lag per subscription, replica lag, WAL retained by slots,
// backup age per node (all from the status report, api/database-status.ts) and task counts by type and status
// (Temporal visibility counts). Temporal's worker and SDK metrics are served by each worker process
// (PGCP_WORKER_METRICS_ADDRESS, worker/runtime.ts). Labels are route patterns, closed enumerations and the ids of
// databases, nodes, instances, slots and subscriptions: bounded by what exists, never per request or per task.
import type { Client } from '@temporalio/client';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { listDatabases } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { taskAttributes, type TaskType } from '../workflows/model/search-attributes.js';
import { readDatabaseStatus } from './database-status.js';

const taskTypes = ['create', 'update', 'delete', 'node_backup', 'restore', 'node_restore', 'restart_instance', 'stop_instance', 'start_instance', 'switchover', 'failover', 'remove_host', 'upgrade'] as const;
// A task type added to TaskType and not here fails to compile (the missing name shows in the error).
type Missing = Exclude<TaskType, (typeof taskTypes)[number]>;
const everyTaskType: [Missing] extends [never] ? true : Missing = true;
void everyTaskType;

/** Temporal's execution statuses → the API's task statuses (running covers pending and canceling). */
const taskStatusOf: Record<string, string> = {
  WORKFLOW_EXECUTION_STATUS_RUNNING: 'running', Running: 'running',
  WORKFLOW_EXECUTION_STATUS_COMPLETED: 'completed', Completed: 'completed',
  WORKFLOW_EXECUTION_STATUS_CANCELED: 'canceled', Canceled: 'canceled',
  WORKFLOW_EXECUTION_STATUS_FAILED: 'failed', Failed: 'failed',
  WORKFLOW_EXECUTION_STATUS_TERMINATED: 'failed', Terminated: 'failed',
  WORKFLOW_EXECUTION_STATUS_TIMED_OUT: 'failed', TimedOut: 'failed',
};

export interface MetricsDeps { store: Store; temporal?: Client; now?: () => Date }

export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pgcp_api_' });
  const registers = [registry];
  const requests = new Counter({ name: 'pgcp_api_requests_total', help: 'API requests by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers });
  const latency = new Histogram({
    name: 'pgcp_api_request_duration_seconds', help: 'API request latency by method and route pattern', labelNames: ['method', 'route'], registers,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const db = ['database_id'] as const;
  const inst = ['database_id', 'node', 'instance_id', 'host_id'] as const;
  const sub = ['database_id', 'subscription', 'subscriber_node', 'provider_node'] as const;
  const g = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
  const gauges = {
    database: g('pgcp_database_info', 'A database and its state (value 1)', [...db, 'state']),
    instance: g('pgcp_instance_info', 'An instance with its role and state (value 1)', [...inst, 'role', 'state']),
    up: g('pgcp_instance_up', '1 when the instance is available, else 0', inst),
    primary: g('pgcp_instance_is_primary', '1 on the node\'s primary, else 0', inst),
    subUp: g('pgcp_subscription_up', '1 when the subscriber reports the subscription replicating, else 0', sub),
    subBytes: g('pgcp_subscription_lag_bytes', 'WAL the subscriber has not confirmed, measured on the provider\'s primary', sub),
    subSeconds: g('pgcp_subscription_lag_seconds', 'How long the provider\'s WAL has been ahead of the subscriber', sub),
    replicaBytes: g('pgcp_replica_lag_bytes', 'WAL a replica has not replayed, measured on its primary', inst),
    replicaSeconds: g('pgcp_replica_lag_seconds', 'Replay lag of a replica, measured on its primary', inst),
    slotRetained: g('pgcp_replication_slot_retained_bytes', 'WAL a primary keeps for one replication slot', ['database_id', 'node', 'instance_id', 'slot', 'type']),
    backupAt: g('pgcp_backup_last_success_timestamp_seconds', 'End of the node\'s last successful backup (Unix time)', [...db, 'node']),
    backupAge: g('pgcp_backup_last_success_age_seconds', 'Age of the node\'s last successful backup', [...db, 'node']),
    recovery: g('pgcp_backup_earliest_recovery_timestamp_seconds', 'Earliest point a restore of the node can reach (Unix time)', [...db, 'node']),
    tasks: g('pgcp_tasks', 'Tasks by type and status', ['type', 'status']),
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const stop = latency.startTimer();
    try {
      await next();
    } finally {
      const matched = routePath(c, -1);
      const route = !matched || matched.endsWith('*') ? 'unmatched' : matched;
      stop({ method: c.req.method, route });
      requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    }
  };

  async function refreshState(): Promise<void> {
    const now = deps.now?.() ?? new Date();
    const statuses = await Promise.all((await listDatabases(deps.store)).map((d) => readDatabaseStatus(deps.store, d, now)));
    for (const gauge of Object.values(gauges)) if (gauge !== gauges.tasks) gauge.reset();
    for (const s of statuses) {
      const database_id = s.database_id;
      gauges.database.set({ database_id, state: s.state }, 1);
      for (const i of s.instances) {
        const l = { database_id, node: i.node_name, instance_id: i.id, host_id: i.host_id };
        gauges.instance.set({ ...l, role: i.role ?? 'unknown', state: i.state }, 1);
        gauges.up.set(l, i.state === 'available' ? 1 : 0);
        gauges.primary.set(l, i.role === 'primary' ? 1 : 0);
      }
      for (const x of s.subscriptions) {
        const l = { database_id, subscription: x.name, subscriber_node: x.subscriber_node, provider_node: x.provider_node };
        gauges.subUp.set(l, x.status === 'replicating' ? 1 : 0);
        if (x.lag_bytes !== null) gauges.subBytes.set(l, x.lag_bytes);
        if (x.lag_seconds !== null) gauges.subSeconds.set(l, x.lag_seconds);
      }
      for (const r of s.replicas) {
        const l = { database_id, node: r.node_name, instance_id: r.instance_id, host_id: r.host_id };
        if (r.lag_bytes !== null) gauges.replicaBytes.set(l, r.lag_bytes);
        if (r.lag_seconds !== null) gauges.replicaSeconds.set(l, r.lag_seconds);
      }
      for (const sl of s.slots) gauges.slotRetained.set({ database_id, node: sl.node_name, instance_id: sl.instance_id, slot: sl.name, type: sl.type }, sl.retained_bytes);
      for (const n of s.nodes) {
        const b = n.backup;
        if (b?.last_success_at) {
          gauges.backupAt.set({ database_id, node: n.name }, Date.parse(b.last_success_at) / 1000);
          gauges.backupAge.set({ database_id, node: n.name }, b.last_success_age_seconds ?? 0);
        }
        if (b?.earliest_recovery_point) gauges.recovery.set({ database_id, node: n.name }, Date.parse(b.earliest_recovery_point) / 1000);
      }
    }
  }

  /** One visibility count per task type, grouped by status (the only GROUP BY Temporal's visibility has). */
  async function refreshTasks(client: Client): Promise<void> {
    const counts = await Promise.all(taskTypes.map(async (type) => {
      const r = await client.workflow.count(`${taskAttributes.scope.name} IS NOT NULL AND ${taskAttributes.taskType.name} = '${type}' GROUP BY ExecutionStatus`);
      return { type, groups: r.groups };
    }));
    gauges.tasks.reset();
    for (const { type, groups } of counts) {
      for (const group of groups) {
        const status = taskStatusOf[String(group.groupValues[0])] ?? 'unknown';
        gauges.tasks.inc({ type, status }, group.count);
      }
    }
  }

  return {
    registry,
    middleware,
    async render(): Promise<{ contentType: string; body: string }> {
      await Promise.all([refreshState(), deps.temporal ? refreshTasks(deps.temporal) : undefined]);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
