// Desired instances of a spec: nodes × host_ids, node-level fields replacing database-level ones.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { ids } from './ids.js';

export interface InstancePlan {
  instanceId: string;
  databaseId: string;
  nodeName: string;
  hostId: string;
  /** The first host of a node starts as its primary; Patroni decides afterwards. */
  initialRole: 'primary' | 'replica';
  postgresMajor: string;
  port: number | null;
  patroniPort: number | null;
  cpus: string | null;
  memory: string | null;
}

export function postgresMajor(version: string): string {
  return version.split('.')[0]!;
}

export function nodeVersion(spec: DatabaseSpec, nodeName: string): string | undefined {
  return spec.nodes.find((n) => n.name === nodeName)?.postgres_version ?? spec.postgres_version;
}

export function planInstances(databaseId: string, spec: DatabaseSpec): InstancePlan[] {
  return spec.nodes.flatMap((node) =>
    node.host_ids.map((hostId, i): InstancePlan => ({
      instanceId: ids.instance(databaseId, node.name, hostId),
      databaseId,
      nodeName: node.name,
      hostId,
      initialRole: i === 0 ? 'primary' : 'replica',
      postgresMajor: postgresMajor(node.postgres_version ?? spec.postgres_version ?? ''),
      port: node.port ?? spec.port ?? null,
      patroniPort: node.patroni_port ?? spec.patroni_port ?? null,
      cpus: node.cpus ?? spec.cpus ?? null,
      memory: node.memory ?? spec.memory ?? null,
    })),
  );
}

const lowerKeys = (conf: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(conf ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** postgresql_conf: node keys override database keys; names are case-insensitive, as Postgres's. */
export function effectiveConf(spec: DatabaseSpec, nodeName: string): Record<string, unknown> {
  const node = spec.nodes.find((n) => n.name === nodeName);
  return { ...lowerKeys(spec.postgresql_conf), ...lowerKeys(node?.postgresql_conf) };
}

/** pg_hba_conf / pg_ident_conf: node lines first (they match first), then database lines. */
export function effectiveLines(spec: DatabaseSpec, nodeName: string, key: 'pg_hba_conf' | 'pg_ident_conf'): string[] {
  const node = spec.nodes.find((n) => n.name === nodeName);
  return [...(node?.[key] ?? []), ...(spec[key] ?? [])];
}
