// The DatabaseSpec request schema (pgEdge §5): Goa-level constraints here; cross-field rules in
// workflows/model/validate-spec.ts, which returns `{path, message}` lines rendered as invalid_input.
import { z } from '@hono/zod-openapi';
import { restoreOptionKeys } from '../../workflows/model/backup.js';
import { IdentifierSchema } from './common.js';

// Anchored (the reference's Goa pattern is not): a node name becomes part of host paths and pgBackRest's lines.
export const NodeNameSchema = z.string().regex(/^n[0-9]+$/);
const PostgresVersionSchema = z.string().regex(/^\d{2}\.\d{1,2}$/);
const PortSchema = z.number().int().min(0).max(65535);
const CpusSchema = z.string().regex(/^[0-9]+(\.[0-9]{1,3}|m)?$/);
const MemorySchema = z.string().max(16);
const ConfSchema = z.record(z.string(), z.unknown());
const Lines = z.array(z.string());

export const DatabaseUserSpecSchema = z
  .object({
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    db_owner: z.boolean().optional(),
    attributes: z.array(z.string()).max(16).optional(),
    roles: z.array(z.string()).max(16).optional(),
  })
  .openapi('DatabaseUserSpec');


const OptionsMap = z.record(z.string(), z.string());

export const BackupRepositorySpecSchema = z
  .object({
    id: IdentifierSchema.optional(),
    type: z.enum(['s3', 'gcs', 'azure', 'posix', 'cifs']),
    s3_bucket: z.string().min(3).max(63).optional(),
    s3_region: z.string().min(1).max(32).optional(),
    s3_endpoint: z.string().min(3).max(128).optional(),
    s3_key: z.string().max(128).optional(),
    s3_key_secret: z.string().max(128).optional(),
    gcs_bucket: z.string().min(3).max(63).optional(),
    gcs_endpoint: z.string().min(3).max(128).optional(),
    gcs_key: z.string().max(1024).optional(),
    azure_account: z.string().min(3).max(24).optional(),
    azure_container: z.string().min(3).max(63).optional(),
    azure_endpoint: z.string().min(3).max(128).optional(),
    azure_key: z.string().max(128).optional(),
    retention_full: z.number().int().min(1).max(9999999).optional(),
    retention_full_type: z.enum(['time', 'count']).optional(),
    base_path: z.string().max(256).optional(),
    custom_options: OptionsMap.optional(),
  })
  .openapi('BackupRepositorySpec');

export const RestoreConfigSpecSchema = z
  .object({
    source_database_id: IdentifierSchema,
    source_node_name: NodeNameSchema,
    source_database_name: z.string().min(1).max(31),
    repository: BackupRepositorySpecSchema.omit({ retention_full: true, retention_full_type: true }),
    restore_options: z.record(z.string(), z.string()).optional().openapi({ description: `pgBackRest restore options as --key=value; allowed keys: ${restoreOptionKeys.join(', ')}` }),
  })
  .openapi('RestoreConfigSpec');

export const RestoreDatabaseRequestSchema = z
  .object({ restore_config: RestoreConfigSpecSchema, target_nodes: z.array(z.string()).max(9).optional() })
  .openapi('RestoreDatabaseRequest');

export const BackupScheduleSpecSchema = z
  .object({ id: z.string().min(1).max(64), type: z.enum(['full', 'incr']), cron_expression: z.string().min(1).max(32) })
  .openapi('BackupScheduleSpec');

export const BackupConfigSpecSchema = z
  .object({ repositories: z.array(BackupRepositorySpecSchema).min(1), schedules: z.array(BackupScheduleSpecSchema).max(32).optional() })
  .openapi('BackupConfigSpec');

export const ExtraVolumesSpecSchema = z
  .object({ host_path: z.string().min(1).max(256), destination_path: z.string().min(1).max(256) })
  .openapi('ExtraVolumesSpec');

export const ExtraNetworkSpecSchema = z
  .object({ id: z.string().min(1).max(128), aliases: z.array(z.string().min(1).max(128)).max(8).optional(), driver_opts: z.record(z.string(), z.string()).optional() })
  .openapi('ExtraNetworkSpec');

/** pgEdge §5.8: the only orchestrator is swarm; here its options apply to the instance's plain container. */
export const SwarmOptsSchema = z
  .object({
    extra_volumes: z.array(ExtraVolumesSpecSchema).max(16).optional(),
    extra_networks: z.array(ExtraNetworkSpecSchema).max(8).optional(),
    extra_labels: z.record(z.string(), z.string()).optional(),
    image: z.string().max(512).optional(),
  })
  .openapi('SwarmOpts');

export const OrchestratorOptsSchema = z.object({ swarm: SwarmOptsSchema.optional() }).openapi('OrchestratorOpts');

/** SQL run once when the database is created (pgEdge §5.1): up to 256 statements of 1–1024 characters each. */
const SqlScriptSchema = z.array(z.string().min(1).max(1024)).max(256);
export const DatabaseScriptsSchema = z
  .object({ post_init: SqlScriptSchema.optional(), post_database_create: SqlScriptSchema.optional() })
  .openapi('DatabaseScripts');

/** pgEdge §5.7: a supporting service beside the database; its config is checked per type (workflows/model/services.ts). */
export const ServiceSpecSchema = z
  .object({
    service_id: IdentifierSchema,
    service_type: z.enum(['mcp', 'postgrest', 'rag', 'pgbouncer']).openapi({ description: 'pgbouncer: a pooler that follows its node\'s primary (an extension of this control plane)' }),
    version: z.string().regex(/^(\d+\.\d+(\.\d+)?|latest)$/),
    host_ids: z.array(IdentifierSchema).min(1),
    port: PortSchema.optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    cpus: CpusSchema.optional(),
    memory: MemorySchema.optional(),
    orchestrator_opts: OrchestratorOptsSchema.optional().openapi({ description: 'extra_labels, extra_networks (without driver_opts) and image; extra_volumes are refused for services (pgEdge §5.7)' }),
    database_connection: z.object({
      target_nodes: z.array(z.string()).optional(),
      target_session_attrs: z.enum(['primary', 'prefer-standby', 'standby', 'read-write', 'any']).optional(),
    }).optional(),
    connect_as: z.string().min(1),
  })
  .openapi('ServiceSpec');

export const DatabaseNodeSpecSchema = z
  .object({
    name: NodeNameSchema,
    host_ids: z.array(IdentifierSchema).min(1),
    postgres_version: PostgresVersionSchema.optional(),
    port: PortSchema.optional(),
    patroni_port: PortSchema.optional(),
    cpus: CpusSchema.optional(),
    memory: MemorySchema.optional(),
    postgresql_conf: ConfSchema.optional(),
    pg_hba_conf: Lines.optional(),
    pg_ident_conf: Lines.optional(),
    backup_config: BackupConfigSpecSchema.optional(),
    restore_config: RestoreConfigSpecSchema.optional(),
    orchestrator_opts: OrchestratorOptsSchema.optional(),
    source_node: z.string().optional(),
  })
  .openapi('DatabaseNodeSpec');

export const DatabaseSpecSchema = z
  .object({
    database_name: z.string().min(1).max(31),
    postgres_version: PostgresVersionSchema.optional(),
    spock_version: z.string().regex(/^\d{1}$/).optional(),
    port: PortSchema.optional(),
    patroni_port: PortSchema.optional(),
    cpus: CpusSchema.optional(),
    memory: MemorySchema.optional(),
    nodes: z.array(DatabaseNodeSpecSchema).min(1).max(9),
    database_users: z.array(DatabaseUserSpecSchema).max(16).optional(),
    services: z.array(ServiceSpecSchema).optional(),
    backup_config: BackupConfigSpecSchema.optional(),
    restore_config: RestoreConfigSpecSchema.optional(),
    postgresql_conf: ConfSchema.optional(),
    pg_hba_conf: Lines.optional(),
    pg_ident_conf: Lines.optional(),
    orchestrator_opts: OrchestratorOptsSchema.optional(),
    scripts: DatabaseScriptsSchema.optional(),
  })
  .openapi('DatabaseSpec');

/** The README's walkthrough: also what API fuzzers start from (examples phase) before they mutate it. */
const exampleSpec = {
  database_name: 'example',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port: 6432 }, { name: 'n2', host_ids: ['host-1'], port: 6433 }],
};

export const CreateDatabaseRequestSchema = z
  .object({ id: IdentifierSchema.optional(), tenant_id: IdentifierSchema.optional(), spec: DatabaseSpecSchema })
  .openapi('CreateDatabaseRequest', { example: { id: 'example', spec: exampleSpec } });

export const UpdateDatabaseRequestSchema = z
  .object({ tenant_id: IdentifierSchema.optional(), spec: DatabaseSpecSchema })
  .openapi('UpdateDatabaseRequest', { example: { spec: { ...exampleSpec, nodes: [...exampleSpec.nodes, { name: 'n3', host_ids: ['host-1'], port: 6434 }] } } });

export type DatabaseSpec = z.infer<typeof DatabaseSpecSchema>;
export type DatabaseNodeSpec = z.infer<typeof DatabaseNodeSpecSchema>;
export type DatabaseUserSpec = z.infer<typeof DatabaseUserSpecSchema>;
export type BackupConfigSpec = z.infer<typeof BackupConfigSpecSchema>;
export type BackupRepositorySpec = z.infer<typeof BackupRepositorySpecSchema>;
export type RestoreConfigSpec = z.infer<typeof RestoreConfigSpecSchema>;
export type DatabaseScripts = z.infer<typeof DatabaseScriptsSchema>;
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
