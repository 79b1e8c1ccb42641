// The host side of a node's repositories, checked again by the agent right before it makes directories or
// containers (the API checked at admission; the host may differ, and a link may have been planted since): the
// repository directories a container mounts, made one component at a time without following links, inside the
// operator's roots and outside the data directory; the CA files copied into the instance's directory (only PEM
// certificates, read without following links) instead of mounting a host path into the container.
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureHostDir, hostPathCheck, HostPathError, readHostFile } from '../../platform/host-paths.js';
import { caContainerPath, repositoryCaPaths, type RepositoryDir, type RepositorySpec } from '../../workflows/model/backup-repository.js';
import type { HostPathPolicy } from '../../workflows/model/host-paths.js';
import type { HostDeps } from '../deps.js';
import { FailureType, permanent } from '../errors.js';

/** The operator's policy for repository directories on this host. */
export const repositoryPolicy = (deps: Pick<HostDeps, 'dataDir' | 'repositoryRoots'>): HostPathPolicy => ({ roots: deps.repositoryRoots, forbidden: [deps.dataDir] });
/** CA files may be anywhere but in the data directory (their content must be a certificate). */
const caPolicy = (deps: Pick<HostDeps, 'dataDir'>): HostPathPolicy => ({ forbidden: [deps.dataDir] });

const refuse = (what: string, err: unknown): never => {
  if (err instanceof HostPathError) throw permanent(FailureType.invalidSpec, `${what}: ${err.message}`);
  throw err;
};

/**
 * The directories a node's containers will mount: its database's own made if missing (without following links),
 * another database's leaf (a restore source, read-only) checked and required to exist. Fails permanently, naming
 * the path, before any container is made.
 */
export async function prepareRepositoryDirs(deps: HostDeps, dirs: RepositoryDir[]): Promise<void> {
  for (const d of dirs) {
    if (d.own) {
      await ensureHostDir(d.dir, repositoryPolicy(deps)).catch((err: unknown) => refuse(`repository directory ${d.dir}`, err));
      continue;
    }
    const issue = await hostPathCheck(d.dir, repositoryPolicy(deps));
    if (issue) throw permanent(FailureType.invalidSpec, `restore source ${d.dir}: ${issue}`);
    const missing = await stat(d.dir).then(() => false, () => true);
    if (missing) throw permanent(FailureType.notFound, `restore source ${d.dir} does not exist on host ${deps.hostId}`);
  }
}

const pem = /^\s*(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*)+$/;

/**
 * The repositories' CA files copied into `caDir` under the names their pgBackRest option points at (a directory
 * mounted read-only at caDirInContainer). Only PEM certificates are copied: any other file a path names (a key,
 * another instance's configuration) is refused. Returns whether there was any.
 */
export async function copyCaFiles(deps: HostDeps, repos: RepositorySpec[], caDir: string): Promise<boolean> {
  const paths = repositoryCaPaths(repos);
  if (paths.length === 0) return false;
  await mkdir(caDir, { recursive: true, mode: 0o755 });
  await chmod(caDir, 0o755);
  for (const p of paths) {
    const content = await readHostFile(p, caPolicy(deps)).catch((err: unknown) => refuse(`storage-ca-file ${p}`, err));
    if (!pem.test(content.toString('utf8'))) throw permanent(FailureType.invalidSpec, `storage-ca-file ${p} is not a PEM certificate`);
    await writeFile(path.join(caDir, path.basename(caContainerPath(p))), content, { mode: 0o644 });
  }
  return true;
}
