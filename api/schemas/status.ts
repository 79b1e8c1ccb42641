// The database status report (an extension of the reference API): what `pgcp status` prints and the metrics export —
// nodes, instances with role and state, replication lag per subscription, replica lag, WAL kept by slots, and per
// node the last successful backup and the earliest point a restore can reach. Lag is null when nobody measures it
// now (the provider's primary is down or its report is stale).
import { z } from '@hono/zod-openapi';

const Bytes = z.number().nullable().openapi({ description: 'Bytes of WAL; null when not measured now' });
const Seconds = z.number().nullable().openapi({ description: 'Seconds; null when not measured now' });

export const NodeStatusSchema = z.object({
  name: z.string(),
  host_ids: z.array(z.string()),
  primary_instance_id: z.string().optional(),
  backup: z.object({
    checked_at: z.string(),
    backup_count: z.number().int(),
    last_success_at: z.string().optional(),
    last_success_age_seconds: z.number().optional(),
    last_label: z.string().optional(),
    last_type: z.string().optional(),
    earliest_recovery_point: z.string().optional().openapi({ description: 'End of the oldest backup: the earliest target of a point-in-time restore' }),
    error: z.string().optional(),
  }).strict().optional().openapi({ description: 'Absent when the node has no backup_config' }),
}).strict();

export const InstanceStatusSchema = z.object({
  id: z.string(),
  node_name: z.string(),
  host_id: z.string(),
  state: z.string(),
  role: z.enum(['primary', 'replica']).optional(),
  patroni_state: z.string().optional(),
  postgres_version: z.string().optional(),
  status_updated_at: z.string().optional(),
  error: z.string().optional(),
}).strict();

export const SubscriptionStatusSchema = z.object({
  name: z.string(),
  subscriber_node: z.string(),
  provider_node: z.string(),
  status: z.string().openapi({ description: 'As the subscriber reports it (replicating, down, …); unknown when it reports nothing' }),
  lag_bytes: Bytes,
  lag_seconds: Seconds,
  slot_active: z.boolean().nullable().openapi({ description: 'Whether the subscriber is connected to its slot on the provider' }),
}).strict();

export const ReplicaStatusSchema = z.object({
  instance_id: z.string(),
  node_name: z.string(),
  host_id: z.string(),
  state: z.string().openapi({ description: 'The primary\'s view of the stream (streaming, catchup…), else the instance\'s state' }),
  sync_state: z.string().optional().openapi({ description: 'sync: the primary\'s commits wait for this replica, and only such a replica is promoted; async or potential: not (yet)' }),
  lag_bytes: Bytes,
  lag_seconds: Seconds,
}).strict();

export const SlotStatusSchema = z.object({
  instance_id: z.string(),
  node_name: z.string(),
  name: z.string(),
  type: z.enum(['logical', 'physical']),
  active: z.boolean(),
  retained_bytes: z.number().openapi({ description: 'WAL the primary keeps for this slot' }),
  wal_status: z.string().optional().openapi({ description: 'Postgres\'s wal_status: reserved, extended, unreserved, or lost (invalidated past max_slot_wal_keep_size: its subscriber must be added again)' }),
}).strict();

export const DatabaseStatusSchema = z.object({
  database_id: z.string(),
  state: z.string(),
  observed_at: z.string(),
  nodes: z.array(NodeStatusSchema),
  instances: z.array(InstanceStatusSchema),
  subscriptions: z.array(SubscriptionStatusSchema),
  replicas: z.array(ReplicaStatusSchema),
  slots: z.array(SlotStatusSchema),
}).strict().openapi('DatabaseStatus');

export type DatabaseStatus = z.infer<typeof DatabaseStatusSchema>;
