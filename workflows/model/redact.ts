// Pure: the spec as anyone may see it — in API responses and in workflow histories — without its secrets.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

export function redactSpec(spec: DatabaseSpec): DatabaseSpec {
  return {
    ...spec,
    ...(spec.database_users
      ? { database_users: spec.database_users.map(({ password: _password, ...u }) => ({ ...u, db_owner: u.db_owner ?? false })) }
      : {}),
  };
}

/** Whatever slipped into an error text as a DSN or option (libpq and pglogical quote DSNs): never shown. */
export function redactSecrets(text: string): string {
  return text.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1[redacted]');
}
