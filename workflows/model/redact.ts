// Pure: the spec as anyone may see it — in API responses and in workflow histories — without its secrets.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

type BackupConfig = NonNullable<DatabaseSpec['backup_config']>;

/** Repository credentials are never echoed (pgEdge §5.5). */
function redactBackup(config: BackupConfig): BackupConfig {
  return { ...config, repositories: config.repositories.map(({ s3_key: _a, s3_key_secret: _b, gcs_key: _c, azure_key: _d, ...r }) => r) };
}

export function redactSpec(spec: DatabaseSpec): DatabaseSpec {
  return {
    ...spec,
    ...(spec.backup_config ? { backup_config: redactBackup(spec.backup_config) } : {}),
    nodes: spec.nodes.map((n) => (n.backup_config ? { ...n, backup_config: redactBackup(n.backup_config) } : n)),
    ...(spec.database_users
      ? { database_users: spec.database_users.map(({ password: _password, ...u }) => ({ ...u, db_owner: u.db_owner ?? false })) }
      : {}),
  };
}

/** Whatever slipped into an error text as a DSN or option (libpq and pglogical quote DSNs): never shown. */
export function redactSecrets(text: string): string {
  return text.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1[redacted]');
}
