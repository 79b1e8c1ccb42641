// Pure: orchestrator_opts.swarm (pgEdge §5.8) — the node's object replaces the database's; the checks an
// orchestrator_opts must pass before anything is stored; and the image a node asks for.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { repositoryDockerMounts, type HostMount, type RepositoryDir } from './backup-repository.js';
import { hostPathIssue, type HostPathPolicy } from './host-paths.js';
import type { SpecIssue } from './validate-spec.js';

export interface ExtraVolume { host_path: string; destination_path: string }
export interface ExtraNetwork { id: string; aliases?: string[]; driver_opts?: Record<string, string> }
export interface SwarmOpts {
  extra_volumes?: ExtraVolume[];
  extra_networks?: ExtraNetwork[];
  extra_labels?: Record<string, string>;
  image?: string;
}

/** The swarm options an instance of the node runs with: the node's object replaces (never merges) the database's. */
export function effectiveSwarm(spec: DatabaseSpec, nodeName: string): SwarmOpts {
  const node = spec.nodes.find((n) => n.name === nodeName);
  return (node?.orchestrator_opts ?? spec.orchestrator_opts)?.swarm ?? {};
}

/** The image the node's swarm options pin, or undefined: an empty string returns to the version manifest. */
export function pinnedImage(spec: DatabaseSpec, nodeName: string): string | undefined {
  const image = effectiveSwarm(spec, nodeName).image;
  return image ? image : undefined;
}

/**
 * An extra volume's host path under the operator's host-path policy — the same rule as a posix repository's base_path
 * (hostPathIssue: absolute, no `.`/`..`, inside PGCP_REPOSITORY_ROOTS when set, neither inside nor holding the data
 * directory of the control plane or of any registered host). Without a policy (pure spec checks): the textual rules only.
 */
export function checkExtraVolumeHostPath(path: string, policy: HostPathPolicy = { forbidden: [] }): string | null {
  return hostPathIssue(path, policy);
}

/** Where the control plane mounts its own files in an instance container: an extra volume may not cover them. */
const reservedDestinations = ['/var/lib/postgresql/data', '/etc/patroni', '/etc/pgbackrest'];

const pgEdgeTag = /^(\d+(?:\.\d+)?)-spock(\d+)(?:[.\d]*)-[a-z]+(?:-\d+)?$/;

/**
 * A pgEdge-format tag (`{pg}-spock{spock}-{variant}[-{build}]`) must prefix-match the versions the node runs; other
 * tags and digests are taken as they are.
 */
export function imageTagIssue(image: string, postgresVersion: string | undefined, spockVersion: string | undefined): string | null {
  if (image.includes('@')) return null;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= slash) return null;
  const m = pgEdgeTag.exec(image.slice(colon + 1));
  if (!m) return null;
  const [, pg, spock] = m;
  if (postgresVersion && !(postgresVersion === pg || postgresVersion.startsWith(`${pg}.`) || pg!.startsWith(`${postgresVersion}.`))) {
    return `image tag postgres version ${pg} does not match postgres_version ${postgresVersion}`;
  }
  if (spockVersion && !spock!.startsWith(spockVersion)) return `image tag spock version ${spock} does not match spock_version ${spockVersion}`;
  return null;
}

/** extra_labels: keys starting with `pgedge.` (the reference's) or `pgcp.` (this control plane's own) are reserved. */
export function extraLabelIssues(labels: Record<string, string> | undefined, at: string, out: SpecIssue[]): void {
  for (const key of Object.keys(labels ?? {})) {
    if (key.toLowerCase().startsWith('pgedge.') || key.toLowerCase().startsWith('pgcp.')) {
      out.push({ path: `${at}.extra_labels[${key}]`, message: `label keys starting with "pgedge." (or "pgcp.") are reserved, got "${key}"` });
    }
  }
}

/**
 * A service's orchestrator_opts (pgEdge §5.7): extra_labels, extra_networks and image as for a node; extra_volumes and
 * an extra network's driver_opts are refused.
 */
export function serviceSwarmIssues(swarm: SwarmOpts | undefined, at: string, out: SpecIssue[]): void {
  if (!swarm) return;
  if (swarm.extra_volumes !== undefined) out.push({ path: `${at}.extra_volumes`, message: 'extra_volumes are not supported for services' });
  (swarm.extra_networks ?? []).forEach((n, i) => {
    if (n.driver_opts !== undefined) out.push({ path: `${at}.extra_networks[${i}].driver_opts`, message: 'driver_opts are not supported for services' });
  });
  extraLabelIssues(swarm.extra_labels, at, out);
}

function validateSwarm(opts: unknown, at: string, versions: { postgres?: string; spock?: string }, out: SpecIssue[]): void {
  if (opts === undefined) return;
  const swarm = (opts as { swarm?: SwarmOpts }).swarm;
  if (!swarm) return;
  (swarm.extra_volumes ?? []).forEach((v, i) => {
    const err = checkExtraVolumeHostPath(v.host_path);
    if (err) out.push({ path: `${at}.swarm.extra_volumes[${i}].host_path`, message: err });
    if (!v.destination_path.startsWith('/') || v.destination_path.split('/').includes('..')) {
      out.push({ path: `${at}.swarm.extra_volumes[${i}].destination_path`, message: 'must be an absolute path without ".."' });
    } else if (reservedDestinations.some((r) => v.destination_path === r || v.destination_path.startsWith(`${r}/`) || r.startsWith(`${v.destination_path.replace(/\/+$/, '')}/`))) {
      out.push({ path: `${at}.swarm.extra_volumes[${i}].destination_path`, message: `must not cover the control plane's own mounts (${reservedDestinations.join(', ')})` });
    }
  });
  extraLabelIssues(swarm.extra_labels, `${at}.swarm`, out);
  if (swarm.image) {
    const err = imageTagIssue(swarm.image, versions.postgres, versions.spock);
    if (err) out.push({ path: `${at}.swarm.image`, message: err });
  }
}

/** The database's and every node's orchestrator_opts. */
export function orchestratorOptsIssues(spec: DatabaseSpec): SpecIssue[] {
  const out: SpecIssue[] = [];
  validateSwarm(spec.orchestrator_opts, 'orchestrator_opts', { postgres: spec.postgres_version, spock: spec.spock_version }, out);
  spec.nodes.forEach((n, i) => validateSwarm(n.orchestrator_opts, `nodes[${i}].orchestrator_opts`, { postgres: n.postgres_version ?? spec.postgres_version, spock: spec.spock_version }, out));
  return out;
}

const under = (path: string, dir: string) => {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
};

/** Whether a container path lies inside one of the extra volumes (a repository there needs no mount of its own). */
export function coveredByExtraVolume(volumes: ExtraVolume[], containerPath: string): boolean {
  return volumes.some((v) => under(containerPath, v.destination_path));
}

/**
 * The repository directories (repositoryDirs) an instance of the node mounts itself: all but those an extra volume
 * already holds (pgEdge's walkthrough mounts a posix repository with extra_volumes at /backups; the volume is the
 * operator's, its host_path checked by the same host-path policy, and the directories below it are pgBackRest's).
 */
export function ownRepositoryDirs(spec: DatabaseSpec, nodeName: string, dirs: RepositoryDir[]): RepositoryDir[] {
  const volumes = effectiveSwarm(spec, nodeName).extra_volumes ?? [];
  return dirs.filter((d) => !coveredByExtraVolume(volumes, d.dir));
}

/**
 * The bind mounts of an instance of the node: its extra volumes (read-write, as pgEdge mounts them), the database's
 * repository directories at the same path inside (except those an extra volume holds) and the instance's CA copies.
 */
export function instanceMounts(spec: DatabaseSpec, nodeName: string, dirs: RepositoryDir[], caDir: string | null): HostMount[] {
  const volumes = effectiveSwarm(spec, nodeName).extra_volumes ?? [];
  const extra: HostMount[] = volumes.map((v) => ({ Type: 'bind', Source: v.host_path, Target: v.destination_path, ReadOnly: false }));
  return [...extra, ...repositoryDockerMounts(ownRepositoryDirs(spec, nodeName, dirs), caDir)];
}

/** Every extra volume's host_path in a spec (database and node level), with the path that names it. */
export function extraVolumesAt(spec: DatabaseSpec): { hostPath: string; at: string }[] {
  const of = (opts: unknown, at: string) => ((opts as { swarm?: SwarmOpts } | undefined)?.swarm?.extra_volumes ?? [])
    .map((v, i) => ({ hostPath: v.host_path, at: `${at}orchestrator_opts.swarm.extra_volumes[${i}].host_path` }));
  return [...of(spec.orchestrator_opts, ''), ...spec.nodes.flatMap((n, i) => of(n.orchestrator_opts, `nodes[${i}].`))];
}

/**
 * The repositories (by their path in the spec, as repositoriesAt names them) whose base_path lies inside an extra
 * volume on every node they apply to: there base_path names a directory inside the containers, not on the host —
 * the host directory is the volume's host_path, which is held to the host-path policy instead.
 */
export function volumeHeldRepositories(spec: DatabaseSpec, repos: { repo: { type: string; base_path?: string }; at: string }[]): Set<string> {
  const held = new Set<string>();
  for (const { repo, at } of repos) {
    if (!repo.base_path) continue;
    const m = /^nodes\[(\d+)\]\./.exec(at);
    const nodes = m ? [spec.nodes[Number(m[1])]!] : at.startsWith('backup_config.') ? spec.nodes.filter((n) => !n.backup_config) : spec.nodes;
    if (nodes.length > 0 && nodes.every((n) => coveredByExtraVolume(effectiveSwarm(spec, n.name).extra_volumes ?? [], repo.base_path!))) held.add(at);
  }
  return held;
}

/**
 * Whether a repository's base_path lies inside an extra volume on every one of these nodes (an in-place restore's
 * targets): it then names a directory inside their containers, and the volume's host_path was held to the host-path
 * policy when the spec was admitted.
 */
export function heldByExtraVolumes(spec: DatabaseSpec, nodeNames: string[], basePath: string | undefined): boolean {
  return !!basePath && nodeNames.length > 0 && nodeNames.every((n) => coveredByExtraVolume(effectiveSwarm(spec, n).extra_volumes ?? [], basePath));
}
