// Pure: in-place image (minor) upgrades (pgEdge §4.6) — which images a database can move to, and the spec an
// upgrade to one of them stores. The images are the version manifest's, as the hosts report them built.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { postgresMajor } from './instances.js';

export interface ImageVersion { postgres_version: string; spock_version: string; image: string }

/** Numeric order of "15.18" and "15.20" (and "17" < "17.1"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Images of the database's Postgres major (and spock major) strictly newer than its version, built on every host
 * the database runs on, oldest first.
 */
export function availableUpgrades(spec: DatabaseSpec, imagesByHost: Map<string, ImageVersion[]>): ImageVersion[] {
  const current = spec.postgres_version;
  if (!current) return [];
  const hosts = [...new Set(spec.nodes.flatMap((n) => n.host_ids))];
  const [first = [], ...rest] = hosts.map((h) => imagesByHost.get(h) ?? []);
  return first
    .filter((v) => v.image && rest.every((imgs) => imgs.some((o) => o.image === v.image && o.postgres_version === v.postgres_version)))
    .filter((v) => postgresMajor(v.postgres_version) === postgresMajor(current) && v.spock_version === (spec.spock_version ?? v.spock_version))
    .filter((v) => compareVersions(v.postgres_version, current) > 0)
    .sort((a, b) => compareVersions(a.postgres_version, b.postgres_version));
}

/**
 * The spec an upgrade to `target` stores: the database's version is the target's, and node versions equal to the
 * old one are cleared (they follow the database's). Nodes pinning another version or their own image keep them.
 */
export function upgradedSpec(spec: DatabaseSpec, target: ImageVersion): DatabaseSpec {
  const old = spec.postgres_version;
  return {
    ...spec,
    postgres_version: target.postgres_version,
    nodes: spec.nodes.map((n) => {
      if (n.postgres_version === undefined || n.postgres_version !== old) return n;
      const { postgres_version: _old, ...rest } = n;
      return rest;
    }),
  };
}

/** The target of `POST …/upgrade {image}`, or why there is none (the reference's "upgrade not available: …"). */
export function upgradeTarget(spec: DatabaseSpec, image: string, available: ImageVersion[]): { target: ImageVersion } | { error: string } {
  const target = available.find((v) => v.image === image);
  if (target) return { target };
  const offered = available.map((v) => `${v.image} (${v.postgres_version})`).join(', ');
  return { error: `upgrade not available: ${image} is not a newer Postgres ${postgresMajor(spec.postgres_version ?? '')} image of the version manifest built on every host of this database (from ${spec.postgres_version}${offered ? `; available: ${offered}` : '; none available'})` };
}
