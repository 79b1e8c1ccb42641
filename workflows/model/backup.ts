// Pure: a node's backups — which backup_config applies (node level replaces database level), where its
// pgBackRest repository lives, the pgBackRest configuration of its instances, the archive_command, and the checks
// on backup input. Only repositories on a mounted path (posix, cifs) run here; object stores are refused until
// their emulators are wired in, never accepted silently.
import type { BackupConfigSpec, BackupRepositorySpec, DatabaseSpec, RestoreConfigSpec } from '../../api/schemas/database-spec.js';

export interface SpecIssue { path: string; message: string }

/** Where each instance finds its pgBackRest configuration (bind-mounted, read-only). */
export const pgbackrestConfigPath = '/etc/pgcp/pgbackrest.conf';
export const stanza = 'db';
const dataDir = '/var/lib/postgresql/data/pgdata';
const optionKey = /^[a-z0-9-]+$/;
const mountedTypes = ['posix', 'cifs'];

export function nodeBackupConfig(spec: DatabaseSpec, nodeName: string): BackupConfigSpec | undefined {
  return spec.nodes.find((n) => n.name === nodeName)?.backup_config ?? spec.backup_config;
}

/** `<base_path>/databases/<database id>/<node>`, as the reference lays repositories out. */
export function repositoryPath(repo: BackupRepositorySpec, databaseId: string, nodeName: string): string {
  return `${(repo.base_path ?? '').replace(/\/+$/, '')}/databases/${databaseId}/${nodeName}`;
}

/** Host directories an instance of the node must see at the same path. */
export function repositoryMounts(config: BackupConfigSpec | undefined): string[] {
  return [...new Set((config?.repositories ?? []).filter((r) => mountedTypes.includes(r.type)).map((r) => r.base_path!))];
}

/** The pgBackRest configuration of the node's instances (repo1…repoN, stanza `db`). */
export function pgbackrestConfig(config: BackupConfigSpec, databaseId: string, nodeName: string): string {
  const lines = ['[global]', 'log-level-console=info', 'log-level-file=off', 'lock-path=/tmp/pgbackrest', 'start-fast=y', 'archive-async=n'];
  config.repositories.forEach((r, i) => {
    const k = `repo${i + 1}`;
    lines.push(`${k}-type=${r.type}`, `${k}-path=${repositoryPath(r, databaseId, nodeName)}`);
    lines.push(`${k}-retention-full=${r.retention_full ?? 7}`, `${k}-retention-full-type=${r.retention_full_type ?? 'time'}`);
    for (const [key, value] of Object.entries(r.custom_options ?? {})) lines.push(`${key.startsWith('repo') ? key : `${k}-${key}`}=${value}`);
  });
  lines.push('', `[${stanza}]`, `pg1-path=${dataDir}`, 'pg1-port=5432', 'pg1-socket-path=/var/run/postgresql', 'pg1-user=postgres', '');
  return lines.join('\n');
}

/** archive_command: through pgBackRest when the node has backups, else WAL segments are let go. */
export function archiveCommand(config: BackupConfigSpec | undefined): string {
  return config ? `pgbackrest --config=${pgbackrestConfigPath} --stanza=${stanza} archive-push %p` : '/bin/true';
}

/** `--key=value` flags from a user map (keys already checked against ^[a-z0-9-]+$); an empty value is a bare switch. */
export function optionFlags(options: Record<string, string> | undefined): string[] {
  return Object.entries(options ?? {}).map(([k, v]) => (v === '' ? `--${k}` : `--${k}=${v}`));
}

export function validateBackupConfig(config: BackupConfigSpec | undefined, at: string, out: SpecIssue[]): void {
  if (!config) return;
  config.repositories.forEach((r, i) => {
    const p = `${at}backup_config.repositories[${i}]`;
    if (!mountedTypes.includes(r.type)) {
      out.push({ path: `${p}.type`, message: `${r.type} repositories are not supported by this control plane yet (posix and cifs are)` });
      return;
    }
    if (!r.base_path) out.push({ path: `${p}.base_path`, message: `base_path is required for ${r.type} repositories` });
    else if (!r.base_path.startsWith('/')) out.push({ path: `${p}.base_path`, message: 'base_path must be absolute' });
    for (const key of Object.keys(r.custom_options ?? {})) {
      if (!optionKey.test(key)) out.push({ path: `${p}.custom_options`, message: `invalid option key "${key}": keys must match ^[a-z0-9-]+$` });
    }
  });
  const ids = new Set<string>();
  (config.schedules ?? []).forEach((s, i) => {
    if (ids.has(s.id)) out.push({ path: `${at}backup_config.schedules[${i}].id`, message: `duplicate schedule id ${s.id}` });
    ids.add(s.id);
  });
}

export function validateOptionKeys(options: Record<string, string> | undefined, path: string, out: SpecIssue[]): void {
  for (const key of Object.keys(options ?? {})) {
    if (!optionKey.test(key)) out.push({ path, message: `invalid option key "${key}": keys must match ^[a-z0-9-]+$` });
  }
}

/** In the instance's volume (beside pgdata), so the restore_command pgBackRest writes works in the instance too. */
export const restoreConfigPath = '/var/lib/postgresql/data/pgcp-restore.conf';
const targetTypes = ['immediate', 'lsn', 'name', 'time', 'xid'];

/** The pgBackRest configuration a restore reads: the source's repository, this instance's data directory. */
export function pgbackrestRestoreConfig(rc: RestoreConfigSpec): string {
  const repo = { ...rc.repository } as BackupRepositorySpec;
  const lines = ['[global]', 'log-level-console=info', 'log-level-file=off', 'lock-path=/tmp/pgbackrest', `repo1-type=${repo.type}`,
    `repo1-path=${repositoryPath(repo, rc.source_database_id, rc.source_node_name)}`];
  for (const [key, value] of Object.entries(repo.custom_options ?? {})) lines.push(`${key.startsWith('repo') ? key : `repo1-${key}`}=${value}`);
  lines.push('', `[${stanza}]`, `pg1-path=${dataDir}`, '');
  return lines.join('\n');
}

/**
 * The restore's flags: always --delta; the user's restore_options; a targeted restore promotes at its target
 * (without it Postgres would pause there, and the restore would look like it went to the latest point).
 */
export function restoreFlags(options: Record<string, string> | undefined): string[] {
  const o = { ...(options ?? {}) };
  if (o.type && targetTypes.includes(o.type) && !('target-action' in o)) o['target-action'] = 'promote';
  return ['--delta', ...optionFlags(o)];
}

/** A restore source's own checks: a mounted repository type, an absolute base_path, option keys, a known type. */
export function validateRestoreSource(rc: RestoreConfigSpec, out: SpecIssue[], at = 'restore_config'): void {
  const start = out.length;
  validateBackupConfig({ repositories: [rc.repository as BackupRepositorySpec] }, `${at}.`, out);
  for (const issue of out.slice(start)) issue.path = issue.path.replace(`${at}.backup_config.repositories[0]`, `${at}.repository`);
  validateOptionKeys(rc.restore_options, `${at}.restore_options`, out);
  if (rc.restore_options?.type && !['default', 'preserve', 'standby', ...targetTypes].includes(rc.restore_options.type)) {
    out.push({ path: `${at}.restore_options`, message: `unknown restore type "${rc.restore_options.type}"` });
  }
}

/** Options that choose a recovery target: a node added from a backup has its own (just before its slots). */
const targetOptions = ['type', 'target', 'target-exclusive', 'target-action', 'target-timeline'];

/**
 * A node added to a running database from a backup of one of its nodes: the backup's node must be a node that
 * stays, the repository one the new node mounts, and no recovery target of the user's (the join sets it, so that
 * no change made after the backup is missed nor applied twice). Existing nodes keep their restore_config.
 */
export function validateNodeRestores(databaseId: string, stored: DatabaseSpec, spec: DatabaseSpec, out: SpecIssue[]): void {
  spec.nodes.forEach((n, i) => {
    const rc = n.restore_config;
    const at = `nodes[${i}].restore_config`;
    const old = stored.nodes.find((o) => o.name === n.name);
    if (old) {
      if (rc && JSON.stringify(rc) !== JSON.stringify(old.restore_config)) out.push({ path: at, message: 'restore_config only applies when a node is added' });
      return;
    }
    if (!rc) return;
    const start = out.length;
    validateRestoreSource(rc, out, at);
    if (out.length > start) return;
    if (rc.source_database_id !== databaseId) {
      out.push({ path: `${at}.source_database_id`, message: 'a node added to a database restores a backup of one of its own nodes (create a new database to restore another database\'s backup)' });
    } else if (!stored.nodes.some((o) => o.name === rc.source_node_name) || !spec.nodes.some((o) => o.name === rc.source_node_name)) {
      out.push({ path: `${at}.source_node_name`, message: `node ${rc.source_node_name} must be an existing node that stays in the spec` });
    }
    if (rc.source_database_name !== spec.database_name) out.push({ path: `${at}.source_database_name`, message: `the backup's database is ${spec.database_name}` });
    if (n.source_node !== undefined && n.source_node !== rc.source_node_name) out.push({ path: `nodes[${i}].source_node`, message: 'a node added from a backup joins from the backup\'s node (restore_config.source_node_name)' });
    for (const key of Object.keys(rc.restore_options ?? {})) {
      if (targetOptions.includes(key)) out.push({ path: `${at}.restore_options`, message: `"${key}" cannot be set: a node added from a backup is recovered to the point where it joins` });
    }
    if (!repositoryMounts(nodeBackupConfig(spec, n.name)).includes(rc.repository.base_path!)) {
      out.push({ path: `${at}.repository.base_path`, message: `node ${n.name} does not mount ${rc.repository.base_path}: give it a backup_config with that repository` });
    }
  });
}

/** Where a database created from a backup finds its restore configuration (bind-mounted, read-only). */
export const createRestoreConfigPath = '/etc/pgcp/pgbackrest-restore.conf';

/** Patroni's custom bootstrap of a database created from a backup: pgBackRest restores instead of initdb. */
export function restoreBootstrapCommand(rc: RestoreConfigSpec): string {
  return ['pgbackrest', `--config=${createRestoreConfigPath}`, `--stanza=${stanza}`, 'restore', ...restoreFlags(rc.restore_options)]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A restore's checks: a repository this node mounts (restore_command runs inside the instance), known targets. */
export function validateRestoreConfig(rc: RestoreConfigSpec, spec: DatabaseSpec, targets: string[], out: SpecIssue[]): void {
  const repo = rc.repository as BackupRepositorySpec;
  validateRestoreSource(rc, out);
  if (out.length > 0) return;
  for (const t of targets) {
    if (!repositoryMounts(nodeBackupConfig(spec, t)).includes(repo.base_path!)) {
      out.push({ path: 'restore_config.repository.base_path', message: `node ${t} does not mount ${repo.base_path}: restoring from a repository outside the node's backup_config is not supported yet` });
    }
  }
}
