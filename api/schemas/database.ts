// Response objects (pgEdge §6) and the query parameters of database and task endpoints.
import { z } from '@hono/zod-openapi';
import { DatabaseSpecSchema } from './database-spec.js';
import { IdentifierSchema } from './common.js';

export const TaskSchema = z
  .object({
    scope: z.enum(['database', 'host']),
    entity_id: z.string(),
    database_id: z.string().optional(),
    host_id: z.string().optional(),
    node_name: z.string().optional(),
    instance_id: z.string().optional(),
    parent_id: z.string().optional(),
    task_id: z.string(),
    created_at: z.string(),
    completed_at: z.string().optional(),
    type: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed', 'canceling', 'canceled', 'unknown']),
    error: z.string().optional(),
  })
  .openapi('Task');

export const TaskLogSchema = z
  .object({
    scope: z.enum(['database', 'host']),
    entity_id: z.string(),
    database_id: z.string().optional(),
    task_id: z.string(),
    task_status: TaskSchema.shape.status,
    last_entry_id: z.string().optional(),
    entries: z.array(z.object({ timestamp: z.string(), message: z.string(), fields: z.record(z.string(), z.unknown()).optional() })),
  })
  .openapi('TaskLog');

export const InstanceSchema = z
  .object({
    id: z.string(),
    host_id: z.string(),
    node_name: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    status_updated_at: z.string().optional(),
    state: z.string(),
    connection_info: z.object({ addresses: z.array(z.string()), port: z.number().int() }).optional(),
    postgres: z.object({
      version: z.string().optional(),
      patroni_state: z.string().optional(),
      role: z.enum(['primary', 'replica']).optional(),
      pending_restart: z.boolean().optional(),
    }).optional(),
    spock: z.object({
      read_only: z.enum(['on', 'off']).optional(),
      version: z.string().optional(),
      subscriptions: z.array(z.object({ provider_node: z.string(), name: z.string(), status: z.string() })).optional(),
    }).optional(),
    error: z.string().optional(),
  })
  .openapi('Instance');

export const ServiceInstanceSchema = z
  .object({
    service_instance_id: z.string(),
    service_id: z.string(),
    database_id: z.string(),
    host_id: z.string(),
    state: z.enum(['creating', 'running', 'failed', 'deleting']),
    status: z.object({
      container_id: z.string().optional(),
      image_version: z.string().optional(),
      addresses: z.array(z.string()).optional(),
      ports: z.array(z.object({ name: z.string(), container_port: z.number().int().optional(), host_port: z.number().int().optional() })).optional(),
      health_check: z.object({ status: z.enum(['healthy', 'unhealthy', 'unknown']), message: z.string().optional(), checked_at: z.string() }).optional(),
      last_health_at: z.string().optional(),
      service_ready: z.boolean().optional(),
    }).optional(),
    created_at: z.string(),
    updated_at: z.string(),
    error: z.string().optional(),
  })
  .openapi('ServiceInstance');

export const AvailableUpgradeSchema = z
  .object({ postgres_version: z.string(), spock_version: z.string(), image: z.string() })
  .openapi('AvailableUpgrade');

export const DatabaseSchema = z
  .object({
    id: z.string(),
    tenant_id: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
    state: z.string(),
    instances: z.array(InstanceSchema).optional(),
    service_instances: z.array(ServiceInstanceSchema).optional(),
    spec: DatabaseSpecSchema.optional(),
    available_upgrades: z.array(AvailableUpgradeSchema).optional().openapi({ description: 'With ?include=available_upgrades, when not empty: newer images of the same major' }),
  })
  .openapi('Database');

export const UpgradeDatabaseRequestSchema = z
  .object({ image: z.string().min(1).openapi({ description: 'A newer image of the version manifest, of the same Postgres major (see available_upgrades)' }) })
  .openapi('UpgradeDatabaseRequest');

export const IncludeQuery = z.object({
  include: z.union([z.string(), z.array(z.string())]).optional().openapi({ description: 'available_upgrades: list the images the database can be upgraded to; other values are ignored' }),
});

export const DatabaseSummarySchema = DatabaseSchema.omit({ spec: true, service_instances: true }).openapi('DatabaseSummary');

/** Go's strconv.ParseBool, as the reference parses query booleans. */
export const QueryBool = z
  .enum(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'])
  .transform((v) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v));

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i).transform((v) => v.toLowerCase());

/** The most items one list answers: `limit` above it is refused; absent or ≤ 0 (the reference's "all") is a page of 100. */
export const maxListLimit = 1000;
const limit = (description: string) => z.coerce.number().int().max(maxListLimit).optional().openapi({ description });
const Limit = limit(`At most this many tasks (≤ ${maxListLimit}); absent or ≤ 0: the newest 100 (in the chosen order), page on with after_task_id`);

export const TaskListQuerySchema = z.object({
  after_task_id: uuid.optional(),
  limit: Limit,
  sort_order: z.enum(['asc', 'ascend', 'ascending', 'desc', 'descend', 'descending']).optional(),
});

export const GlobalTaskListQuerySchema = TaskListQuerySchema.extend({
  scope: z.enum(['database', 'host']).optional(),
  entity_id: IdentifierSchema.optional(),
});

export const TaskLogQuerySchema = z.object({
  after_entry_id: uuid.optional(),
  limit: limit(`Only the newest this many entries (≤ ${maxListLimit}); absent or ≤ 0: every entry (a task's history is bounded)`),
});

export const DatabaseIdParams = z.object({ database_id: IdentifierSchema });
export const TaskParams = z.object({ database_id: IdentifierSchema, task_id: IdentifierSchema });

export type Instance = z.infer<typeof InstanceSchema>;
export type Database = z.infer<typeof DatabaseSchema>;
export type ServiceInstance = z.infer<typeof ServiceInstanceSchema>;
