// Pure: which host paths a spec may have mounted into, or read for, a container — the operator's policy. A host
// path is absolute, has no `.` or `..` component, lies inside one of the operator's allowed roots (where asked), and
// neither lies inside nor contains a directory of the control plane's own (its data directory: the store's socket,
// every instance's configuration with its keys). Symlinks are the host's business (platform/host-paths.ts checks
// them component by component without following any); this module only reads the text of the path.

export interface HostPathPolicy {
  /** Roots the path must lie in (itself or below); empty or absent: no allow-list (only the other rules). */
  roots?: readonly string[];
  /** The control plane's own directories (its data directory on every host): a path may neither be in nor hold one. */
  forbidden: readonly string[];
}

/** The path's components, or null when it is not absolute. `//` and a trailing `/` are ignored. */
export function pathComponents(p: string): string[] | null {
  if (!p.startsWith('/')) return null;
  return p.split('/').filter((c) => c !== '');
}

/** `/a/b` from components; `/` for none. */
export const joinComponents = (cs: readonly string[]): string => `/${cs.join('/')}`;

/** The path without doubled or trailing slashes (it must be absolute and free of `.`/`..`). */
export function normalizeHostPath(p: string): string {
  return joinComponents(pathComponents(p) ?? []);
}

/** Whether `p` is `dir` itself or lies below it (by whole components: `/ab` is not under `/a`). */
export function isUnder(p: string, dir: string): boolean {
  const a = pathComponents(p);
  const d = pathComponents(dir);
  if (!a || !d || d.length > a.length) return false;
  return d.every((c, i) => a[i] === c);
}

/**
 * Why the host path `p` is refused, or null when the policy allows it. The message reads after the field's name:
 * `backup_config.repositories[0].base_path: <message>`.
 */
export function hostPathIssue(p: string, policy: HostPathPolicy): string | null {
  const cs = pathComponents(p);
  if (!cs) return `must be an absolute path on the host, got ${JSON.stringify(p)}`;
  if (cs.some((c) => c === '..' || c === '.')) return `must not contain "." or ".." components, got ${JSON.stringify(p)}`;
  const norm = joinComponents(cs);
  for (const own of policy.forbidden) {
    if (isUnder(norm, own)) return `${norm} is inside the control plane's data directory ${normalizeHostPath(own)}`;
    if (isUnder(own, norm)) return `${norm} contains the control plane's data directory ${normalizeHostPath(own)}`;
  }
  const roots = policy.roots ?? [];
  if (roots.length > 0 && !roots.some((r) => isUnder(norm, r))) {
    return `${norm} is outside the directories the operator allows (PGCP_REPOSITORY_ROOTS: ${roots.map(normalizeHostPath).join(', ')})`;
  }
  return null;
}

/** The paths between the root and `p`, shortest first (`/a/b` → `/a`, `/a/b`): what a host walk checks one by one. */
export function pathPrefixes(p: string): string[] {
  const cs = pathComponents(p) ?? [];
  return cs.map((_, i) => joinComponents(cs.slice(0, i + 1)));
}
