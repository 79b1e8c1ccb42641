// Pure: a node's backups — which backup_config applies (node level replaces database level), the pgBackRest
// configuration of its instances, the archive_command, restores' configuration and flags, and the checks on backup
// and restore input. One repository's own lines, host files, checks and secrets: backup-repository.ts.
import type { BackupConfigSpec, DatabaseSpec, RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { stringify } from 'safe-stable-stringify';
import { identifierError, lineTextError, optionsTextIssues } from './validate-text.js';
import { mountedTypes, optionKey, repositoryHostPaths, repositoryLines, repositoryPath, sameRepository, validateRepository, type SpecIssue } from './backup-repository.js';
import { ids } from './ids.js';
import { normaliseRestoreOptions, restoreTargetIssues, targetTypes } from './restore-target.js';

export type { SpecIssue };
export { repositoryPath };

/** Where each instance finds its pgBackRest configuration (bind-mounted, read-only). */
export const pgbackrestConfigPath = '/etc/pgcp/pgbackrest.conf';
const stanza = ids.stanza;
const dataDir = '/var/lib/postgresql/data/pgdata';
const globalLines = ['[global]', 'log-level-console=info', 'log-level-file=off', 'lock-path=/tmp/pgbackrest'];

export function nodeBackupConfig(spec: DatabaseSpec, nodeName: string): BackupConfigSpec | undefined {
  return spec.nodes.find((n) => n.name === nodeName)?.backup_config ?? spec.backup_config;
}

/** Host directories and files (repositories, CA certificates) an instance of the node must see at the same path. */
export function repositoryMounts(config: BackupConfigSpec | undefined): string[] {
  return repositoryHostPaths(config?.repositories ?? []);
}

/**
 * The pgBackRest configuration of the node's instances (repo1…repoN, stanza `db`), every repository encrypted with
 * the database's passphrase when it has one (databases created before repositories were encrypted have none).
 */
export function pgbackrestConfig(config: BackupConfigSpec, databaseId: string, nodeName: string, cipherPass?: string | null): string {
  const lines = [...globalLines, 'start-fast=y', 'archive-async=n'];
  config.repositories.forEach((r, i) => lines.push(...repositoryLines(r, i + 1, repositoryPath(r, databaseId, nodeName), true, cipherPass)));
  lines.push('', `[${stanza}]`, `pg1-path=${dataDir}`, 'pg1-port=5432', 'pg1-socket-path=/var/run/postgresql', 'pg1-user=postgres', '');
  return lines.join('\n');
}

/** A pgBackRest command line on the node's stanza, reading the configuration at `configPath` (inside the container). */
export function pgbackrestCommand(configPath: string, ...args: string[]): string[] {
  return ['pgbackrest', `--config=${configPath}`, `--stanza=${stanza}`, ...args];
}

/** archive_command: through pgBackRest when the node has backups, else WAL segments are let go. */
export function archiveCommand(config: BackupConfigSpec | undefined): string {
  return config ? pgbackrestCommand(pgbackrestConfigPath, 'archive-push', '%p').join(' ') : '/bin/true';
}

/** `--key=value` flags from a user map (keys already checked against ^[a-z0-9-]+$); an empty value is a bare switch. */
export function optionFlags(options: Record<string, string> | undefined): string[] {
  return Object.entries(options ?? {}).map(([k, v]) => (v === '' ? `--${k}` : `--${k}=${v}`));
}

export function validateBackupConfig(config: BackupConfigSpec | undefined, at: string, out: SpecIssue[]): void {
  if (!config) return;
  config.repositories.forEach((r, i) => validateRepository(r, `${at}backup_config.repositories[${i}]`, out));
  const ids = new Set<string>();
  (config.schedules ?? []).forEach((s, i) => {
    const idError = lineTextError(s.id); // part of a Temporal schedule id
    if (idError) out.push({ path: `${at}backup_config.schedules[${i}].id`, message: idError });
    if (ids.has(s.id)) out.push({ path: `${at}backup_config.schedules[${i}].id`, message: `duplicate schedule id ${s.id}` });
    ids.add(s.id);
  });
}

/**
 * pgBackRest options a user may pass to a backup, as `--key=value` (pgBackRest's backup command options that change
 * how, not where: the repositories, their keys, the data directory and the commands run stay the control plane's;
 * the backup's type is the request's own `type`).
 */
export const backupOptionKeys = [
  'delta', 'process-max', 'start-fast', 'archive-check', 'archive-copy', 'archive-timeout', 'backup-standby',
  'checksum-page', 'compress-type', 'compress-level', 'resume', 'manifest-save-threshold', 'buffer-size', 'expire-auto',
  'io-timeout', 'db-timeout', 'protocol-timeout', 'log-level-console', 'force',
] as const;

/** pgBackRest options a user may pass to a restore (the reference's examples: type, target, set), as `--key=value`. */
export const restoreOptionKeys = [
  'type', 'target', 'target-action', 'target-exclusive', 'target-timeline', 'set', 'delta', 'force', 'process-max',
  'db-include', 'db-exclude', 'archive-mode', 'buffer-size', 'io-timeout', 'db-timeout', 'log-level-console',
] as const;

/** Options that would send a repository's keys elsewhere, read other files or run other commands: always refused. */
const redirectingOption = /^(repo|pg|config|cmd)|-(host|endpoint|path)$/;

/**
 * Options passed to pgBackRest as `--key=value`: keys of ^[a-z0-9-]+$ in the allow-list, values without line
 * breaks. Each refusal names its key: `backup_options[repo1-path]: …`.
 */
export function validateOptions(options: Record<string, string> | undefined, path: string, allowed: readonly string[], out: SpecIssue[]): void {
  for (const key of Object.keys(options ?? {})) {
    const at = `${path}[${key}]`;
    if (!optionKey.test(key)) out.push({ path: at, message: `invalid option key "${key}": keys must match ^[a-z0-9-]+$` });
    else if (key === 'repo') {
      // which of the node's own repositories (1-based, as pgBackRest's --repo): a choice among them, not a redirection
      if (!/^[1-9][0-9]?$/.test(options![key]!)) out.push({ path: at, message: `"repo" is the number of one of the node's repositories (1, 2, …), got ${JSON.stringify(options![key])}` });
    } else if (redirectingOption.test(key)) out.push({ path: at, message: `"${key}" is not allowed: repository, data directory, configuration and command options are the control plane's` });
    else if (!allowed.includes(key)) out.push({ path: at, message: `"${key}" is not an allowed option; allowed: ${allowed.join(', ')}` });
  }
  optionsTextIssues(options, path, out);
}

export const validateBackupOptions = (o: Record<string, string> | undefined, path: string, out: SpecIssue[]) => validateOptions(o, path, backupOptionKeys, out);
export const validateRestoreOptions = (o: Record<string, string> | undefined, path: string, out: SpecIssue[]) => validateOptions(o, path, restoreOptionKeys, out);

/**
 * An in-place restore's configuration: on the tmpfs beside the instance's own (in the one-off container that restores
 * and in the instance while it recovers), at the same path, so the restore_command pgBackRest writes works in both.
 */
export const restoreConfigPath = '/etc/pgcp/pgbackrest-inplace-restore.conf';

/** Where an earlier version left it, in the instance's volume (removed when a restore ends). */
export const legacyRestoreConfigPath = '/var/lib/postgresql/data/pgcp-restore.conf';

/**
 * The pgBackRest configuration a restore reads: the source's repository (with the source database's passphrase, if
 * its repositories are encrypted), this instance's data directory.
 */
export function pgbackrestRestoreConfig(rc: RestoreConfigSpec, cipherPass?: string | null): string {
  const path = repositoryPath(rc.repository, rc.source_database_id, rc.source_node_name);
  return [...globalLines, ...repositoryLines(rc.repository, 1, path, false, cipherPass), '', `[${stanza}]`, `pg1-path=${dataDir}`, ''].join('\n');
}

/**
 * The restore's flags: always --delta; the user's restore_options; a targeted restore promotes at its target
 * (without it Postgres would pause there, and the restore would look like it went to the latest point).
 */
export function restoreFlags(options: Record<string, string> | undefined): string[] {
  const o = { ...(normaliseRestoreOptions(options) ?? {}) };
  if (o.type && targetTypes.includes(o.type) && !('target-action' in o)) o['target-action'] = 'promote';
  return ['--delta', ...optionFlags(o)];
}

/**
 * A restore source's own checks: its repository's, option keys, the recovery target (restore-target.ts; `now`: a
 * time target must not lie ahead of it).
 */
export function validateRestoreSource(rc: RestoreConfigSpec, out: SpecIssue[], at = 'restore_config', now?: number): void {
  // the node's name is part of the repository path: n<digits> only (the schema's pattern is unanchored, as Goa's)
  if (!/^n[0-9]+$/.test(rc.source_node_name)) out.push({ path: `${at}.source_node_name`, message: `node names are n followed by digits, got ${JSON.stringify(rc.source_node_name)}` });
  const nameError = identifierError(rc.source_database_name);
  if (nameError) out.push({ path: `${at}.source_database_name`, message: nameError });
  validateRepository(rc.repository, `${at}.repository`, out, { restoreSource: true });
  validateRestoreOptions(rc.restore_options, `${at}.restore_options`, out);
  out.push(...restoreTargetIssues(rc.restore_options, `${at}.restore_options`, now));
}

/**
 * What an instance must already see to restore from a repository: the repository's directory (mounted types) and
 * its CA file, part of the instance's container only when they came in its backup_config.
 */
function requireMounted(rc: RestoreConfigSpec, spec: DatabaseSpec, nodeName: string, at: string, remedy: string, out: SpecIssue[]): void {
  const mounted = repositoryMounts(nodeBackupConfig(spec, nodeName));
  for (const p of repositoryHostPaths([rc.repository]).filter((x) => !mounted.includes(x))) {
    out.push({ path: `${at}.repository${mountedTypes.includes(rc.repository.type) ? '.base_path' : '.custom_options'}`, message: `node ${nodeName} does not mount ${p}: ${remedy}` });
  }
}

/**
 * The same restore_config sent again (as GET shows it, keys left out, in any key order): what a client that resends
 * the whole spec does. Any other on an existing database or node is refused: it only applies at creation.
 */
export function sameRestoreConfig(a: RestoreConfigSpec, b: RestoreConfigSpec | undefined): boolean {
  if (!b) return false;
  const { repository: ra, ...restA } = a;
  const { repository: rb, ...restB } = b;
  return sameRepository(ra, rb) && stringify(restA) === stringify(restB);
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
      if (rc && !sameRestoreConfig(rc, old.restore_config)) out.push({ path: at, message: 'restore_config only applies when a node is added' });
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
    requireMounted(rc, spec, n.name, at, 'give it a backup_config with that repository', out);
  });
}

/** Where a database created from a backup finds its restore configuration (bind-mounted, read-only). */
export const createRestoreConfigPath = '/etc/pgcp/pgbackrest-restore.conf';

/** Patroni's custom bootstrap of a database created from a backup: pgBackRest restores instead of initdb. */
export function restoreBootstrapCommand(rc: RestoreConfigSpec): string {
  return pgbackrestCommand(createRestoreConfigPath, 'restore', ...restoreFlags(rc.restore_options))
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * An in-place restore's checks: a repository whose host paths the node mounts (restore_command runs inside the
 * instance); a mounted repository of another database is not (its nodes mount only their own database's directory).
 */
export function validateRestoreConfig(rc: RestoreConfigSpec, spec: DatabaseSpec, targets: string[], out: SpecIssue[], databaseId: string, now?: number): void {
  validateRestoreSource(rc, out, 'restore_config', now);
  if (out.length > 0) return;
  if (mountedTypes.includes(rc.repository.type) && rc.source_database_id !== databaseId) {
    out.push({ path: 'restore_config.source_database_id', message: 'an in-place restore from another database\'s posix or cifs repository is not supported (its nodes mount only their own database\'s directory): create a new database from that backup instead' });
    return;
  }
  for (const t of targets) requireMounted(rc, spec, t, 'restore_config', 'restoring from a repository outside the node\'s backup_config is not supported yet', out);
}
