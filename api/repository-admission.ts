// Admission of the host paths and sources a spec's repositories name, before anything is stored or started: the
// operator's roots for base_path (PGCP_REPOSITORY_ROOTS), no `.`/`..`, nothing inside (or holding) the data
// directory of this process or of any registered host, no symbolic link along any path this machine can see (the
// agent checks again on its own host before it mounts anything), and — when the operator refuses them
// (PGCP_CROSS_DATABASE_RESTORE=refuse) — no restore from another database's backups.
import { symlinkIssue } from '../platform/host-paths.js';
import { listHosts } from '../store/hosts.js';
import { repositoryHostFields, repositoryHostPathIssues, type RepositorySpec } from '../workflows/model/backup-repository.js';
import type { HostPathPolicy } from '../workflows/model/host-paths.js';
import { checkExtraVolumeHostPath } from '../workflows/model/orchestrator-opts.js';
import type { RestoreConfigSpec } from './schemas/database-spec.js';
import type { SpecIssue } from '../workflows/model/validate-spec.js';
import type { Admission } from './spec-admission.js';

/** The policy as this API sees it: the configured roots; its own data directory and every registered host's. */
export async function repositoryPolicy(deps: Admission): Promise<HostPathPolicy> {
  const hosts = await listHosts(deps.store);
  return { roots: deps.config.repositoryRoots, forbidden: [...new Set([deps.config.dataDir, ...hosts.map((h) => h.dataDir)])] };
}

/**
 * Every problem of the repositories' host paths, of the extra volumes' host paths (orchestrator_opts.swarm, mounted
 * read-write into the containers: held to the same policy as a posix repository's base_path — inside the operator's
 * roots, not in or over a data directory, no link) and of the restores' sources. `databaseId`: the database the
 * restores go into (undefined: a new database whose id is not chosen yet, so any source is another database).
 */
export async function repositoryAdmissionIssues(
  deps: Admission, repos: { repo: RepositorySpec; at: string }[], restores: { rc: RestoreConfigSpec; at: string }[], databaseId: string | undefined,
  volumes: { hostPath: string; at: string }[] = [],
): Promise<SpecIssue[]> {
  const policy = await repositoryPolicy(deps);
  const out = repositoryHostPathIssues(repos, policy);
  for (const v of volumes) {
    const issue = checkExtraVolumeHostPath(v.hostPath, policy);
    if (issue) out.push({ path: v.at, message: issue });
  }
  if (out.length === 0) {
    for (const { repo, at } of repos) {
      for (const f of repositoryHostFields(repo, at)) {
        const issue = await symlinkIssue(f.value, { file: f.kind === 'file' });
        if (issue) out.push({ path: f.path, message: issue });
      }
    }
    for (const v of volumes) {
      const issue = await symlinkIssue(v.hostPath);
      if (issue) out.push({ path: v.at, message: issue });
    }
  }
  if (deps.config.crossDatabaseRestore === 'refuse') {
    for (const { rc, at } of restores) {
      if (rc.source_database_id !== databaseId) {
        out.push({ path: `${at}.source_database_id`, message: 'restoring another database\'s backups is refused by this control plane (PGCP_CROSS_DATABASE_RESTORE=refuse)' });
      }
    }
  }
  return out;
}
