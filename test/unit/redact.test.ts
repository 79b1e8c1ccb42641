import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { redactSecrets, redactSpec } from '../../workflows/model/redact.js';
import { isSecretOption, keepSecrets, repositorySecrets, secretValues, withoutSecrets, withSecrets } from '../../workflows/model/backup-repository.js';

const spec: DatabaseSpec = {
  database_name: 'app',
  port: 5432,
  nodes: [{ name: 'n1', host_ids: ['host-1'] }],
  database_users: [
    { username: 'admin', password: 'hunter2', db_owner: true, attributes: ['LOGIN'] },
    { username: 'app', password: 's3cret', roles: ['pg_read_all_data'] },
  ],
};

describe('redactSpec', () => {
  const out = redactSpec(spec);

  it('drops every user password', () => {
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(JSON.stringify(out)).not.toContain('s3cret');
    for (const u of out.database_users!) expect(u).not.toHaveProperty('password');
  });

  it('always emits db_owner, false when the user left it out', () => {
    expect(out.database_users).toEqual([
      { username: 'admin', db_owner: true, attributes: ['LOGIN'] },
      { username: 'app', db_owner: false, roles: ['pg_read_all_data'] },
    ]);
  });

  it('keeps the rest of the spec and does not touch the stored one', () => {
    expect(out).toMatchObject({ database_name: 'app', port: 5432, nodes: spec.nodes });
    expect(spec.database_users![0]!.password).toBe('hunter2');
  });

  it('adds no database_users to a spec without users', () => {
    expect(redactSpec({ database_name: 'app', nodes: spec.nodes })).not.toHaveProperty('database_users');
  });
});

describe('redactSecrets', () => {
  it('hides an unquoted password', () => {
    expect(redactSecrets('could not connect: host=a password=hunter2 user=x')).toBe('could not connect: host=a password=[redacted] user=x');
  });

  it('hides a whole quoted password, spaces and escaped quotes included', () => {
    const out = redactSecrets("dsn host='b' password='it\\'s a \\\\ secret' port='5432'");
    expect(out).toBe("dsn host='b' password=[redacted] port='5432'");
  });

  it('is case-insensitive and tolerates spaces around =', () => {
    expect(redactSecrets('PASSWORD = abc dbname=app')).toBe('PASSWORD = [redacted] dbname=app');
  });

  it('leaves text without passwords alone', () => {
    expect(redactSecrets('relation "t" does not exist')).toBe('relation "t" does not exist');
  });
});

describe('secret custom_options', () => {
  const repo = {
    type: 's3' as const, s3_bucket: 'b', s3_key: 'AKIA-canary', s3_key_secret: 'sk-canary',
    custom_options: { 'repo1-cipher-pass': 'cipher-canary', 'cipher-type': 'aes-256-cbc', 's3-uri-style': 'path', 's3-key-type': 'shared', 's3-token': 'tok-canary', 'sftp-private-key-passphrase': 'pp-canary' },
  };
  const withRepo: DatabaseSpec = { ...spec, backup_config: { repositories: [repo] } };

  it('names passphrases, passwords, tokens, secrets and keys, but not key types or files', () => {
    for (const k of ['repo1-cipher-pass', 'cipher-pass', 's3-key', 'repo2-s3-key-secret', 's3-token', 'gcs-key', 'azure-key', 'sftp-private-key-passphrase', 's3-sse-customer-key', 'some-password']) expect(isSecretOption(k), k).toBe(true);
    for (const k of ['cipher-type', 's3-key-type', 'gcs-key-type', 'storage-ca-file', 's3-uri-style', 'sftp-private-key-file', 's3-kms-key-id', 'bundle']) expect(isSecretOption(k), k).toBe(false);
  });

  it('are never shown: the spec anyone may see has the others only', () => {
    const out = JSON.stringify(redactSpec(withRepo));
    expect(out).not.toMatch(/canary/);
    expect(redactSpec(withRepo).backup_config!.repositories[0]!.custom_options).toEqual({ 'cipher-type': 'aes-256-cbc', 's3-uri-style': 'path', 's3-key-type': 'shared' });
  });

  it('are kept apart with the keys and put back whole', () => {
    const s = repositorySecrets(repo);
    expect(s.custom_options).toEqual({ 'repo1-cipher-pass': 'cipher-canary', 's3-token': 'tok-canary', 'sftp-private-key-passphrase': 'pp-canary' });
    expect(withSecrets(withoutSecrets(repo), s)).toEqual(repo);
    expect(secretValues([repo]).sort()).toEqual(['AKIA-canary', 'cipher-canary', 'pp-canary', 'sk-canary', 'tok-canary']);
  });

  it('an update that leaves them out (as GET shows the repository) keeps them; one that changes them changes them', () => {
    expect(keepSecrets(withoutSecrets(repo), [repo])).toEqual(repo);
    const changed = { ...withoutSecrets(repo), custom_options: { ...withoutSecrets(repo).custom_options, 'repo1-cipher-pass': 'new' } };
    expect(keepSecrets(changed, [repo]).custom_options!['repo1-cipher-pass']).toBe('new');
  });

  it('are removed from whatever pgBackRest prints', () => {
    expect(redactSecrets('run --repo1-cipher-pass=cipher-canary --repo1-s3-key-type=shared')).toBe('run --repo1-cipher-pass=[redacted] --repo1-s3-key-type=shared');
  });
});
