// The host side of the host-path policy (workflows/model/host-paths.ts holds the pure rules): paths are walked
// component by component with lstat, never following a symbolic link, so a link planted anywhere along a path (by
// whoever can write there, e.g. a database superuser in a repository directory) cannot redirect a mount, a mkdir,
// a chown or a read to somewhere else on the host. Used by the API at admission (same machine) and by each host's
// agent again right before it creates directories or containers.
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { hostPathIssue, normalizeHostPath, pathPrefixes, type HostPathPolicy } from '../workflows/model/host-paths.js';

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Why the existing part of `p` cannot be used: a component that is a symbolic link, or an intermediate component
 * that is not a directory. Null when every existing component is a real directory (or the last one a regular file
 * when `file`); components that do not exist yet are fine (they will be made without following anything).
 */
export async function symlinkIssue(p: string, o: { file?: boolean } = {}): Promise<string | null> {
  const prefixes = pathPrefixes(p);
  for (const [i, prefix] of prefixes.entries()) {
    let st;
    try {
      st = await lstat(prefix);
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
    if (st.isSymbolicLink()) return `${prefix} is a symbolic link: host paths are used without following links`;
    const last = i === prefixes.length - 1;
    if (last && o.file ? !st.isFile() : !st.isDirectory()) return `${prefix} is not a ${last && o.file ? 'regular file' : 'directory'}`;
  }
  return null;
}

/** Every rule at once: the policy's (text) and the host's (links). Null when `p` may be used. */
export async function hostPathCheck(p: string, policy: HostPathPolicy, o: { file?: boolean } = {}): Promise<string | null> {
  return hostPathIssue(p, policy) ?? (await symlinkIssue(p, o));
}

/** An error naming the path's problem (for activities: the task fails naming it, before any container is made). */
export class HostPathError extends Error {}

/**
 * The directory `p` (and its missing parents) made one component at a time, none followed if it is a link: what a
 * container may then have bind-mounted. Throws HostPathError when the policy or a link refuses it.
 */
export async function ensureHostDir(p: string, policy: HostPathPolicy, mode = 0o755): Promise<string> {
  const issue = hostPathIssue(p, policy);
  if (issue) throw new HostPathError(issue);
  for (const prefix of pathPrefixes(p)) {
    let st = await lstat(prefix).catch((err: unknown) => (code(err) === 'ENOENT' ? null : Promise.reject(err)));
    if (!st) {
      await mkdir(prefix, { mode }).catch((err: unknown) => (code(err) === 'EEXIST' ? undefined : Promise.reject(err)));
      st = await lstat(prefix);
    }
    if (st.isSymbolicLink()) throw new HostPathError(`${prefix} is a symbolic link: host paths are used without following links`);
    if (!st.isDirectory()) throw new HostPathError(`${prefix} is not a directory`);
  }
  return normalizeHostPath(p);
}

/**
 * The content of the host file `p`, read without following a link anywhere along its path (O_NOFOLLOW on the file
 * itself), at most `maxBytes`. Throws HostPathError when the policy or a link refuses it, or it is not a file.
 */
export async function readHostFile(p: string, policy: HostPathPolicy, maxBytes = 1 << 20): Promise<Buffer> {
  const issue = await hostPathCheck(p, policy, { file: true });
  if (issue) throw new HostPathError(issue);
  let handle;
  try {
    handle = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (code(err) === 'ELOOP') throw new HostPathError(`${p} is a symbolic link: host paths are used without following links`);
    if (code(err) === 'ENOENT') throw new HostPathError(`${p} does not exist on this host`);
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new HostPathError(`${p} is not a regular file`);
    if (st.size > maxBytes) throw new HostPathError(`${p} is larger than ${maxBytes} bytes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
