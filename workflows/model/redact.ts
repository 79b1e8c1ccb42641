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
