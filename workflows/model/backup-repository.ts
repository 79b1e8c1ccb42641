// Pure: one pgBackRest repository — its configuration lines (posix and cifs on a mounted host directory; s3, gcs
// and azure object stores over TLS), the host files its instances must see (directories, CA certificates), its
// checks, and its secrets: which fields they are, how a repository is recognised across an update (so omitted
// secrets are kept), and the repository without them.
import { stringify } from 'safe-stable-stringify';
import type { BackupRepositorySpec, DatabaseSpec } from '../../api/schemas/database-spec.js';
import { hostPathIssue, type HostPathPolicy } from './host-paths.js';
import { repositoryTextIssues } from './validate-text.js';

export interface SpecIssue { path: string; message: string }

/** What a restore_config's repository may hold: a backup repository without retention. */
export type RepositorySpec = Omit<BackupRepositorySpec, 'retention_full' | 'retention_full_type'> & Partial<Pick<BackupRepositorySpec, 'retention_full' | 'retention_full_type'>>;

export const mountedTypes = ['posix', 'cifs'];
export const secretFields = ['s3_key', 's3_key_secret', 'gcs_key', 'azure_key'] as const;
/** A repository's secrets: its key fields, and the custom_options that are secrets (isSecretOption). */
export type RepositorySecrets = Partial<Pick<BackupRepositorySpec, (typeof secretFields)[number]>> & { custom_options?: Record<string, string> };

/**
 * A custom option whose value is a secret: passphrases, passwords, tokens, keys (`repo1-cipher-pass`, `s3-key`,
 * `s3-key-secret`, `s3-token`, `azure-key`, `gcs-key`, `sftp-private-key-passphrase`, `s3-sse-customer-key`…). Such
 * values are never shown and are kept like the key fields; `…-key-type`, `…-key-file` and the like are not secrets.
 */
export function isSecretOption(key: string): boolean {
  const k = key.replace(/^repo\d*-/, '');
  return /(^|-)(pass|passphrase|password|secret|token|key)$/.test(k) || /(^|-)(pass|passphrase|password|secret|token)(-|$)/.test(k);
}

/** pgBackRest's cipher for every repository of a database that has a passphrase (see repositoryLines). */
export const cipherType = 'aes-256-cbc';
/** Repository options the control plane sets itself (from the repository's type and base_path, and its cipher). */
const managedOptions = ['type', 'path', 'cipher-type', 'cipher-pass'];

/** What a pgBackRest option key passed through from the user may look like. */
export const optionKey = /^[a-z0-9-]+$/;
/** The custom option naming a host file the instance must see at the same path (a private CA certificate). */
const hostFileOption = /^(repo\d*-)?storage-ca-file$/;

/** `<base_path>/databases/<database id>/<node>`, as the reference lays repositories out (base_path `` in a bucket). */
export function repositoryPath(repo: RepositorySpec, databaseId: string, nodeName: string): string {
  const base = (repo.base_path ?? '').replace(/\/+$/, '');
  return `${base && !base.startsWith('/') ? '/' : ''}${base}/databases/${databaseId}/${nodeName}`;
}

/** A custom option's key without its `repo`/`repoN-` prefix: the config writer adds the repository's own. */
const bareKey = (key: string) => key.replace(/^repo\d*-/, '');

/**
 * The repository's options for pgBackRest, without the `repoN-` prefix. Object stores get the reference's defaults
 * (AWS, Google and Azure endpoints, host-style Azure URIs); the user's custom_options come last and win.
 */
export function repositoryOptions(r: RepositorySpec, path: string, { retention, cipherPass }: { retention: boolean; cipherPass?: string | null }): Map<string, string> {
  const o = new Map<string, string>([['type', r.type], ['path', path]]);
  const set = (k: string, v: string | undefined) => { if (v !== undefined) o.set(k, v); };
  if (retention) {
    set('retention-full', String(r.retention_full ?? 7));
    set('retention-full-type', r.retention_full_type ?? 'time');
  }
  if (r.type === 's3') {
    const region = r.s3_region ?? 'us-east-1';
    set('s3-bucket', r.s3_bucket);
    set('s3-region', region);
    set('s3-endpoint', r.s3_endpoint ?? `s3.${region}.amazonaws.com`);
    if (r.s3_key) {
      set('s3-key-type', 'shared');
      set('s3-key', r.s3_key);
      set('s3-key-secret', r.s3_key_secret);
    } else set('s3-key-type', 'auto');
  } else if (r.type === 'gcs') {
    set('gcs-bucket', r.gcs_bucket);
    set('gcs-endpoint', r.gcs_endpoint ?? 'storage.googleapis.com');
    set('gcs-key-type', r.gcs_key ? 'token' : 'auto');
    set('gcs-key', r.gcs_key);
  } else if (r.type === 'azure') {
    set('azure-account', r.azure_account);
    set('azure-container', r.azure_container);
    set('azure-endpoint', r.azure_endpoint ?? 'blob.core.windows.net');
    set('azure-uri-style', 'host');
    set('azure-key-type', 'shared');
    set('azure-key', r.azure_key);
  }
  if (cipherPass) {
    set('cipher-type', cipherType);
    set('cipher-pass', cipherPass);
  }
  // a CA file is read from the instance's own copy (the host path is never mounted)
  for (const [key, value] of Object.entries(r.custom_options ?? {})) o.set(bareKey(key), hostFileOption.test(key) && value.startsWith('/') ? caContainerPath(value) : value);
  return o;
}

/**
 * The `repoN-…` lines of one repository (a restore's source gets no retention: it never expires backups), encrypted
 * with the database's passphrase when it has one.
 */
export function repositoryLines(r: RepositorySpec, index: number, path: string, retention: boolean, cipherPass?: string | null): string[] {
  return [...repositoryOptions(r, path, { retention, cipherPass })].map(([k, v]) => `repo${index}-${k}=${v}`);
}

/** CA certificate files given in custom_options (host paths): their content is copied into the instance's directory. */
export function repositoryCaPaths(repos: RepositorySpec[]): string[] {
  return [...new Set(repos.flatMap((r) => Object.entries(r.custom_options ?? {}).filter(([k, v]) => hostFileOption.test(k) && v.startsWith('/')).map(([, v]) => v)))];
}

/** Where the instance's copies of CA files are mounted (read-only), inside its containers. */
export const caDirInContainer = '/etc/pgcp/ca';

/**
 * The in-container path of the copy of a host CA file: one file per host path, named by escaping every character
 * but letters, digits, `.` and `-` (so two host paths never share a name).
 */
export function caContainerPath(hostPath: string): string {
  const name = hostPath.replace(/^\/+/, '').replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${caDirInContainer}/${name}`;
}

/** Host paths a repository names: mounted repositories' base_path and CA files, with the field that names them. */
export function repositoryHostFields(r: RepositorySpec, p: string): { path: string; value: string; kind: 'dir' | 'file' }[] {
  const out: { path: string; value: string; kind: 'dir' | 'file' }[] = [];
  if (mountedTypes.includes(r.type) && r.base_path) out.push({ path: `${p}.base_path`, value: r.base_path, kind: 'dir' });
  for (const [k, v] of Object.entries(r.custom_options ?? {})) if (hostFileOption.test(k)) out.push({ path: `${p}.custom_options[${k}]`, value: v, kind: 'file' });
  return out;
}

/** Host directories (mounted repositories' base_path) and CA files a node's repositories name. */
export function repositoryHostPaths(repos: RepositorySpec[]): string[] {
  return [...new Set([...repos.flatMap((r) => (mountedTypes.includes(r.type) && r.base_path ? [r.base_path] : [])), ...repositoryCaPaths(repos)])];
}

export type HostMount = { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean };

/** `<base_path>/databases/<database id>`: the directory of one database's repositories (its nodes' leaves below). */
export function databaseRepositoryDir(r: RepositorySpec, databaseId: string): string {
  return `${(r.base_path ?? '').replace(/\/+$/, '')}/databases/${databaseId}`;
}

/** A restore's source as the mounts see it: its repository and whose backups it holds. */
export interface RestoreSourceRef { repository: RepositorySpec; source_database_id: string; source_node_name: string }

/** A host directory an instance's containers mount at the same path; `own`: made by the agent if missing. */
export interface RepositoryDir { dir: string; readOnly: boolean; own: boolean }

/**
 * The repository directories a node's containers mount — never a base_path itself, so databases sharing one never see
 * each other's backups: the database's own directory `<base_path>/databases/<db>` (read-write: its nodes' leaves,
 * so a node can be restored from a peer's backup), and for a restore from another database's backups only that
 * node's leaf `<base_path>/databases/<other>/<node>`, read-only.
 */
export function repositoryDirs(databaseId: string, backups: RepositorySpec[], restore?: RestoreSourceRef): RepositoryDir[] {
  const out = new Map<string, RepositoryDir>();
  for (const r of backups) if (mountedTypes.includes(r.type) && r.base_path) out.set(databaseRepositoryDir(r, databaseId), { dir: databaseRepositoryDir(r, databaseId), readOnly: false, own: true });
  if (restore && mountedTypes.includes(restore.repository.type) && restore.repository.base_path) {
    const own = restore.source_database_id === databaseId;
    const dir = own ? databaseRepositoryDir(restore.repository, databaseId) : repositoryPath(restore.repository, restore.source_database_id, restore.source_node_name);
    if (!out.has(dir)) out.set(dir, { dir, readOnly: !own, own });
  }
  return [...out.values()];
}

/**
 * Docker mounts of a node's repository directories (at the same path inside, so pgBackRest's paths mean the same
 * everywhere) and of the instance's CA copies. Bind mounts (not `Binds`), so a missing directory fails the
 * container's creation instead of becoming an empty one.
 */
export function repositoryDockerMounts(dirs: RepositoryDir[], caDir: string | null): HostMount[] {
  return [
    ...dirs.map((d): HostMount => ({ Type: 'bind', Source: d.dir, Target: d.dir, ReadOnly: d.readOnly })),
    ...(caDir ? [{ Type: 'bind', Source: caDir, Target: caDirInContainer, ReadOnly: true } as HostMount] : []),
  ];
}

const secretOptions = (r: RepositorySpec) => Object.entries(r.custom_options ?? {}).filter(([k]) => isSecretOption(k));

/** Only the repository's secrets. */
export function repositorySecrets(r: RepositorySpec): RepositorySecrets {
  const options = secretOptions(r);
  return {
    ...Object.fromEntries(secretFields.filter((f) => r[f] !== undefined).map((f) => [f, r[f]])),
    ...(options.length ? { custom_options: Object.fromEntries(options) } : {}),
  };
}

/** The repository with secrets kept apart (repositorySecrets) put back. */
export function withSecrets<R extends RepositorySpec>(r: R, secrets: RepositorySecrets): R {
  const { custom_options: options, ...keys } = secrets;
  const out: R = { ...r, ...keys };
  if (options && Object.keys(options).length) out.custom_options = { ...r.custom_options, ...options };
  return out;
}

/** The key values of repositories, to be removed from whatever a tool prints. */
export function secretValues(repos: RepositorySpec[]): string[] {
  return repos.flatMap((r) => [...secretFields.map((f) => r[f]), ...secretOptions(r).map(([, v]) => v)].filter((v): v is string => typeof v === 'string'));
}

/** The repository as anyone may see it: in responses, task logs and workflow histories. */
export function withoutSecrets<R extends RepositorySpec>(r: R): R {
  const out = { ...r };
  for (const f of secretFields) delete out[f];
  if (out.custom_options) {
    const shown = Object.entries(out.custom_options).filter(([k]) => !isSecretOption(k));
    if (shown.length) out.custom_options = Object.fromEntries(shown);
    else delete out.custom_options;
  }
  return out;
}

/**
 * The same repository across an update: type, id, bucket or account and container, endpoint, region and base_path
 * (what the reference matches on), and here also every custom option but secret ones — an option can send the keys elsewhere
 * (storage-host, storage-port, storage-verify-tls…), so keys are only carried to exactly the same destination.
 */
export function repositoryIdentity(r: RepositorySpec): string {
  return stringify([r.type, r.id ?? null, r.s3_bucket ?? r.gcs_bucket ?? r.azure_container ?? null, r.azure_account ?? null,
    r.s3_endpoint ?? r.gcs_endpoint ?? r.azure_endpoint ?? null, r.s3_region ?? null, r.base_path?.replace(/\/+$/, '') ?? null,
    Object.fromEntries(Object.entries(r.custom_options ?? {}).filter(([k]) => !isSecretOption(k)).map(([k, v]) => [bareKey(k), v]))])!;
}

/** Two repositories alike but for their keys (key order aside: the store's jsonb reorders them). */
export function sameRepository(a: RepositorySpec, b: RepositorySpec): boolean {
  return stringify(withoutSecrets(a)) === stringify(withoutSecrets(b));
}

/** Every repository of a spec (database and node level, backup and restore), as mapRepositories visits them. */
export function specRepositories(spec: DatabaseSpec): RepositorySpec[] {
  const out: RepositorySpec[] = [];
  mapRepositories(spec, (r) => { out.push(r); return r; });
  return out;
}

/** The spec with `f` applied to each of its repositories (database and node level, backup and restore). */
export function mapRepositories(spec: DatabaseSpec, f: <R extends RepositorySpec>(r: R) => R): DatabaseSpec {
  const backup = <T extends DatabaseSpec['backup_config']>(c: T): T => (c ? { ...c, repositories: c.repositories.map(f) } : c);
  const restore = <T extends DatabaseSpec['restore_config']>(rc: T): T => (rc ? { ...rc, repository: f(rc.repository) } : rc);
  return {
    ...spec,
    ...(spec.backup_config ? { backup_config: backup(spec.backup_config) } : {}),
    ...(spec.restore_config ? { restore_config: restore(spec.restore_config) } : {}),
    nodes: spec.nodes.map((n) => ({
      ...n,
      ...(n.backup_config ? { backup_config: backup(n.backup_config) } : {}),
      ...(n.restore_config ? { restore_config: restore(n.restore_config) } : {}),
    })),
  };
}

/** The repository with the secrets it omits taken from the same repository among `known`. */
export function keepSecrets<R extends RepositorySpec>(r: R, known: RepositorySpec[]): R {
  const same = known.find((k) => repositoryIdentity(k) === repositoryIdentity(r));
  if (!same) return r;
  const kept = { ...r };
  for (const f of secretFields) if (kept[f] === undefined && same[f] !== undefined) kept[f] = same[f];
  const omitted = secretOptions(same).filter(([k]) => !Object.keys(r.custom_options ?? {}).some((o) => bareKey(o) === bareKey(k)));
  if (omitted.length) kept.custom_options = { ...kept.custom_options, ...Object.fromEntries(omitted) };
  return kept;
}

/** A repository's own checks: no line breaks in its pgbackrest.conf lines, what its type requires, an absolute base_path, option keys. */
export function validateRepository(r: RepositorySpec, p: string, out: SpecIssue[], o: { restoreSource?: boolean } = {}): void {
  repositoryTextIssues(r, p, out);
  const need = (field: keyof RepositorySpec) => {
    if (!r[field]) out.push({ path: `${p}.${field}`, message: `${field} is required for ${r.type} repositories` });
  };
  if (mountedTypes.includes(r.type)) need('base_path');
  // a bucket's paths are absolute anyway (the reference prefixes `/`); a mounted one is a host directory
  if (mountedTypes.includes(r.type) && r.base_path && !r.base_path.startsWith('/')) out.push({ path: `${p}.base_path`, message: 'base_path must be absolute' });
  if (r.type === 's3') {
    need('s3_bucket');
    if (r.s3_key_secret && !r.s3_key) need('s3_key');
    if (r.s3_key && !r.s3_key_secret) need('s3_key_secret');
  }
  if (r.type === 'gcs') need('gcs_bucket');
  if (r.type === 'azure') ['azure_account', 'azure_container', 'azure_key'].forEach((f) => need(f as keyof RepositorySpec));
  for (const [key, value] of Object.entries(r.custom_options ?? {})) {
    if (!optionKey.test(key)) out.push({ path: `${p}.custom_options`, message: `invalid option key "${key}": keys must match ^[a-z0-9-]+$` });
    else if (hostFileOption.test(key) && !value.startsWith('/')) out.push({ path: `${p}.custom_options`, message: `${key} must be an absolute path on the host` });
    else if (managedOptions.includes(bareKey(key)) && !(o.restoreSource && bareKey(key).startsWith('cipher-'))) {
      out.push({ path: `${p}.custom_options[${key}]`, message: `"${key}" is set by the control plane (the repository's type and base_path, and the database's own encryption)` });
    }
  }
  if (r.type === 'gcs' && r.gcs_key) {
    const keyType = Object.entries(r.custom_options ?? {}).find(([k]) => bareKey(k) === 'gcs-key-type')?.[1] ?? 'token';
    if (keyType !== 'token' || looksLikeServiceAccount(r.gcs_key)) {
      out.push({ path: `${p}.gcs_key`, message: 'gcs_key is used as an access token (gcs-key-type token); service-account keys are not supported by this control plane yet (leave gcs_key out to use the instance\'s own credentials)' });
    }
  }
}

/** A service-account key (the reference's gcs_key: base64 of Google's JSON key file), not a token. */
function looksLikeServiceAccount(key: string): boolean {
  let text = key;
  try { text = atob(key.trim()); } catch { /* not base64: the key as given */ }
  return /"type"\s*:\s*"service_account"/.test(text);
}

/** Every repository of a spec with the path that names it (`backup_config.repositories[0]`, `nodes[1].restore_config.repository`). */
export function repositoriesAt(spec: Pick<DatabaseSpec, 'backup_config' | 'restore_config' | 'nodes'>): { repo: RepositorySpec; at: string }[] {
  const out: { repo: RepositorySpec; at: string }[] = [];
  const add = (c: DatabaseSpec['backup_config'], rc: DatabaseSpec['restore_config'], p: string) => {
    c?.repositories.forEach((repo, i) => out.push({ repo, at: `${p}backup_config.repositories[${i}]` }));
    if (rc) out.push({ repo: rc.repository, at: `${p}restore_config.repository` });
  };
  add(spec.backup_config, spec.restore_config, '');
  spec.nodes.forEach((n, i) => add(n.backup_config, n.restore_config, `nodes[${i}].`));
  return out;
}

/**
 * The operator's rules on the host paths repositories name (pure: the text of each path): a base_path inside the
 * allowed roots, and no path with `.`/`..` or inside (or holding) the control plane's data directory. CA files are
 * not held to the roots (they are copied, and must be certificates), only to the rest.
 */
export function repositoryHostPathIssues(repos: { repo: RepositorySpec; at: string }[], policy: HostPathPolicy): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const { repo, at } of repos) {
    for (const f of repositoryHostFields(repo, at)) {
      const issue = hostPathIssue(f.value, f.kind === 'dir' ? policy : { forbidden: policy.forbidden });
      if (issue) out.push({ path: f.path, message: issue });
    }
  }
  return out;
}
