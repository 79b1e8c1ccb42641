import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { redactSecrets, redactSpec } from '../../workflows/model/redact.js';

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
