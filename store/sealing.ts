// How the databases table keeps its secrets: `secrets` (generated passwords and keys of the database, whatever
// fields they hold) and `restore_secrets` sealed whole; the spec kept twice — `spec` without its secrets (user
// password verifiers, repository keys, secret custom_options) and `spec_sealed`, the whole spec, sealed. The
// associated data names the row and column, so a sealed value moved to another row does not open.
import type pg from 'pg';
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import type { SecretBox } from '../platform/secret-box.js';
import { redactSpec } from '../workflows/model/redact.js';

export const sealContext = {
  secrets: (id: string) => `databases.secrets:${id}`,
  restoreSecrets: (id: string) => `databases.restore_secrets:${id}`,
  spec: (id: string) => `databases.spec_sealed:${id}`,
  retiredKey: (id: string) => `retired_repository_keys.cipher_pass:${id}`,
  instanceRestoreSource: (instanceId: string) => `instances.restore_source:${instanceId}`,
};

/** The spec columns of a row: what anyone reading the store sees, and the whole spec sealed. */
export function specColumns(box: SecretBox, id: string, spec: DatabaseSpec): { spec: DatabaseSpec; sealed: unknown } {
  return { spec: redactSpec(spec), sealed: box.seal(spec, sealContext.spec(id)) };
}

/** The whole spec of a row read with its spec_sealed column. */
export function openSpec(box: SecretBox, id: string, row: { spec: DatabaseSpec; spec_sealed?: unknown }): DatabaseSpec {
  return row.spec_sealed ? box.open<DatabaseSpec>(row.spec_sealed as DatabaseSpec, sealContext.spec(id)) : row.spec;
}

/** Seals rows an older version kept in clear (run after the migrations, under their lock). */
export async function sealClearRows(client: pg.PoolClient, box: SecretBox): Promise<number> {
  const { rows } = await client.query<{ id: string; spec: DatabaseSpec; secrets: unknown; restore_secrets: unknown; spec_sealed: unknown }>(
    `SELECT id, spec, secrets, restore_secrets, spec_sealed FROM databases
     WHERE spec_sealed IS NULL OR NOT (secrets ? 'sealed') OR (restore_secrets IS NOT NULL AND jsonb_typeof(restore_secrets) = 'object' AND NOT (restore_secrets ? 'sealed'))`,
  );
  for (const r of rows) {
    const spec = openSpec(box, r.id, r);
    const cols = specColumns(box, r.id, spec);
    await client.query('UPDATE databases SET spec = $2, spec_sealed = $3, secrets = $4, restore_secrets = $5 WHERE id = $1', [
      r.id, cols.spec, cols.sealed,
      box.seal(box.open(r.secrets, sealContext.secrets(r.id)), sealContext.secrets(r.id)),
      r.restore_secrets === null ? null : box.seal(box.open(r.restore_secrets, sealContext.restoreSecrets(r.id)), sealContext.restoreSecrets(r.id)),
    ]);
  }
  return rows.length;
}
