import { z } from '@hono/zod-openapi';

export const VersionInfoSchema = z
  .object({ version: z.string(), revision: z.string(), revision_time: z.string(), arch: z.string() })
  .openapi('VersionInfo');

export const ClusterJoinTokenSchema = z
  .object({ token: z.string(), server_urls: z.array(z.string()) })
  .openapi('ClusterJoinToken');

export const PgEdgeVersionSchema = z
  .object({
    postgres_version: z.string(),
    spock_version: z.string(),
    extensions: z.record(z.string(), z.string()).optional().openapi({
      description: 'An extension of pgcp: the extensions the image of this version carries besides Postgres\'s own, with their versions (CREATE EXTENSION name → version)',
      example: { pg_cron: '1.6.5', pgaudit: '17.1', postgis: '3.5.2', vector: '0.8.0' },
    }),
  })
  .openapi('PgEdgeVersion');

export const ComponentStatusSchema = z
  .object({ healthy: z.boolean(), error: z.string().optional(), details: z.record(z.string(), z.unknown()).optional() })
  .openapi('ComponentStatus');

export const HostSchema = z
  .object({
    id: z.string(),
    orchestrator: z.string(),
    data_dir: z.string(),
    peer_addresses: z.array(z.string()),
    client_addresses: z.array(z.string()),
    ipv4_address: z.string().optional(),
    cpus: z.number().int().optional(),
    memory: z.string().optional(),
    status: z.object({
      state: z.enum(['healthy', 'unreachable', 'degraded', 'unknown']),
      updated_at: z.string().optional(),
      components: z.record(z.string(), ComponentStatusSchema),
    }),
    default_pgedge_version: PgEdgeVersionSchema.optional(),
    supported_pgedge_versions: z.array(PgEdgeVersionSchema).optional(),
    etcd_mode: z.enum(['server', 'client']).optional(),
  })
  .openapi('Host');

export const ClusterSchema = z
  .object({ id: z.string(), status: z.object({ state: z.enum(['available', 'error']) }), hosts: z.array(HostSchema) })
  .openapi('Cluster');

export type Host = z.infer<typeof HostSchema>;

/** The internal join request a joining server sends an existing one (POST /v1/internal/cluster/join-options). */
export const ClusterJoinRequestSchema = z
  .object({
    token: z.string().regex(/^PGEDGE-\w{64}-\w{32}$/),
    host_id: z.string().min(1).max(36),
    addresses: z.array(z.string().min(3).max(128)).min(1),
    embedded_etcd_enabled: z.boolean(),
  })
  .openapi('ClusterJoinRequest');

