// The store keeps no secret in clear: what the API admits is sealed on the way in (the spec's password verifiers and
// repository keys, the generated secrets, a restore's keys), and rows an older version wrote in clear are sealed by
// the next migration, then read back unchanged.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { hashPasswords } from '../../api/spec-admission.js';
import { migrate } from '../../store/db.js';
import { deleteDatabase, getDatabase, getDatabaseSecrets, getRepositoryCipherPass, getRestoreSecrets, insertDatabase, secretsForNewDatabase, setRestoreSecrets, transitionDatabase } from '../../store/databases.js';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t?.db.drop(); });

const spec = (password: string, key: string): DatabaseSpec => ({
  database_name: 'app',
  database_users: [{ username: 'admin', password, attributes: ['LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'] }],
  backup_config: { repositories: [{ type: 's3', s3_bucket: 'b', s3_key: 'AKIA', s3_key_secret: key, custom_options: { 'repo1-cipher-pass': `${key}-cipher`, 's3-uri-style': 'path' } }] },
});
const secrets = { superuserPassword: 'canary-su', replicationPassword: 'canary-repl', etcdPassword: 'canary-etcd', patroniApiPassword: 'canary-rest', futureSecret: 'canary-future' };
const rawRow = async (id: string) => JSON.stringify((await t.db.store.query('SELECT * FROM databases WHERE id = $1', [id])).rows[0]);

it('seals what is admitted: no column holds a secret in clear, and every reader gets it back', async () => {
  const admitted = hashPasswords(spec('canary-pw', 'canary-key'));
  await insertDatabase(t.db.store, { id: 'a', tenantId: null, spec: admitted, secrets, state: 'creating' });
  await setRestoreSecrets(t.db.store, 'a', { s3_key_secret: 'canary-restore', custom_options: { 'cipher-pass': 'canary-restore-cipher' } });
  await transitionDatabase(t.db.store, 'a', 'any', 'available', hashPasswords(spec('canary-pw2', 'canary-key2'), admitted));
  const raw = await rawRow('a');
  expect(raw).not.toMatch(/canary|SCRAM-SHA-256/);
  expect(raw).toContain('"s3-uri-style":"path"'); // the spec column keeps what is not secret
  const back = await getDatabaseSecrets(t.db.store, 'a');
  expect(back!.secrets).toEqual(secrets);
  expect(back!.spec.backup_config!.repositories[0]).toMatchObject({ s3_key_secret: 'canary-key2', custom_options: { 'repo1-cipher-pass': 'canary-key2-cipher' } });
  expect((await getDatabase(t.db.store, 'a'))!.spec.database_users![0]!.password).toMatch(/^SCRAM-SHA-256\$4096:/);
  expect(await getRestoreSecrets(t.db.store, 'a')).toEqual({ s3_key_secret: 'canary-restore', custom_options: { 'cipher-pass': 'canary-restore-cipher' } });
});

it('a sealed value copied into another row does not open', async () => {
  await insertDatabase(t.db.store, { id: 'b', tenantId: null, spec: spec('x', 'y'), secrets: { superuserPassword: 'b', replicationPassword: 'b', etcdPassword: 'b', patroniApiPassword: 'b' }, state: 'available' });
  await t.db.store.query("UPDATE databases SET secrets = (SELECT secrets FROM databases WHERE id = 'a') WHERE id = 'b'");
  await expect(getDatabaseSecrets(t.db.store, 'b')).rejects.toThrow(/databases\.secrets:b: the sealed value does not open/);
  await t.db.store.query("DELETE FROM databases WHERE id = 'b'");
});

it('rows an older version kept in clear are sealed by the next migration and read back the same', async () => {
  const old = spec('canary-old-pw', 'canary-old-key');
  await t.db.store.query(
    "INSERT INTO databases (id, spec, secrets, restore_secrets, state) VALUES ('old', $1, $2, $3, 'available')",
    [old, secrets, { s3_key_secret: 'canary-old-restore' }],
  );
  expect(await rawRow('old')).toContain('canary-old-pw');
  await migrate(t.db.store);
  expect(await rawRow('old')).not.toMatch(/canary/);
  const back = await getDatabaseSecrets(t.db.store, 'old');
  expect(back).toEqual({ spec: old, secrets });
  expect(await getRestoreSecrets(t.db.store, 'old')).toEqual({ s3_key_secret: 'canary-old-restore' });
});

it("a deleted database's repository passphrase is kept, sealed: its backups stay restorable, and a database made again under its id takes it back", async () => {
  await insertDatabase(t.db.store, { id: 'gone', tenantId: null, spec: spec('x', 'y'), secrets: { ...secrets, repositoryCipherPass: 'canary-passphrase' }, state: 'available' });
  await deleteDatabase(t.db.store, 'gone');
  expect(await getDatabase(t.db.store, 'gone')).toBeNull();
  expect(await getRepositoryCipherPass(t.db.store, 'gone')).toBe('canary-passphrase'); // a restore from its backups
  const kept = JSON.stringify((await t.db.store.query("SELECT * FROM retired_repository_keys WHERE database_id = 'gone'")).rows);
  expect(kept).toContain('sealed');
  expect(kept).not.toContain('canary');
  expect((await secretsForNewDatabase(t.db.store, 'gone')).repositoryCipherPass).toBe('canary-passphrase');
  expect((await secretsForNewDatabase(t.db.store, 'other')).repositoryCipherPass).not.toBe('canary-passphrase');
});
