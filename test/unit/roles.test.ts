import { describe, expect, it } from 'vitest';
import { copyRoleStatements, managedRoleComment, roleStatements, type RoleRow } from '../../activities/postgres/roles.js';

const comment = `COMMENT ON ROLE "app" IS '${managedRoleComment}'`;
const off = (except: string[]) => ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'LOGIN', 'REPLICATION', 'BYPASSRLS'].filter((a) => !except.includes(a)).map((a) => `NO${a}`);

describe('roleStatements', () => {
  it('creates a missing role, sets listed attributes on and the others off, marks it managed, grants its roles', () => {
    expect(roleStatements({ username: 'app', password: 'pw', attributes: ['login', 'CreateDB'], roles: ['pg_read_all_data'] }, { exists: false, memberOf: [] })).toEqual([
      'CREATE ROLE "app"',
      `ALTER ROLE "app" WITH LOGIN CREATEDB ${off(['LOGIN', 'CREATEDB']).join(' ')} PASSWORD 'pw'`,
      comment,
      'GRANT "pg_read_all_data" TO "app"',
    ]);
  });

  it('turns off an attribute dropped from the list and revokes a role dropped from the list', () => {
    const out = roleStatements({ username: 'app', attributes: ['LOGIN'], roles: [] }, { exists: true, memberOf: ['pg_write_all_data'] });
    expect(out).toEqual([`ALTER ROLE "app" WITH LOGIN ${off(['LOGIN']).join(' ')}`, comment, 'REVOKE "pg_write_all_data" FROM "app"']);
  });

  it('keeps an omitted password untouched and grants only what is missing', () => {
    const out = roleStatements({ username: 'app', attributes: ['LOGIN'], roles: ['a', 'b'] }, { exists: true, memberOf: ['a'] });
    expect(out.some((s) => s.includes('PASSWORD'))).toBe(false);
    expect(out.filter((s) => s.startsWith('GRANT'))).toEqual(['GRANT "b" TO "app"']);
  });

  it('lets an explicit NO attribute through without contradicting it', () => {
    const [, alter] = roleStatements({ username: 'app', attributes: ['NOINHERIT', 'LOGIN'] }, { exists: false, memberOf: [] });
    expect(alter).toContain('NOINHERIT LOGIN');
    expect(alter).not.toMatch(/\bINHERIT\b(?<!NOINHERIT)/);
  });

  it('escapes passwords as literals and quotes identifiers, so nothing can inject SQL', () => {
    const out = roleStatements({ username: 'x"; DROP TABLE t; --', password: "it's", roles: ['Mixed Case'] }, { exists: false, memberOf: [] });
    expect(out[0]).toBe('CREATE ROLE "x""; DROP TABLE t; --"');
    expect(out[1]).toContain(`PASSWORD 'it''s'`);
    expect(out[3]).toBe('GRANT "Mixed Case" TO "x""; DROP TABLE t; --"');
  });
});

describe('copyRoleStatements', () => {
  const role = (name: string, over: Partial<RoleRow> = {}): RoleRow => ({
    rolname: name, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false,
    rolbypassrls: false, rolconnlimit: -1, rolpassword: 'SCRAM-SHA-256$4096:abc', rolvaliduntil: null, member_of: [], ...over,
  });

  it('recreates a role with its attributes and password hash, then its memberships', () => {
    const reader = role('reader', { rolcanlogin: false, rolpassword: null });
    const app = role('app', { member_of: ['reader', 'pg_read_all_data'] });
    expect(copyRoleStatements([app, reader], [app, reader])).toEqual([
      `CREATE ROLE "app" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 PASSWORD 'SCRAM-SHA-256$4096:abc'`,
      'CREATE ROLE "reader" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1',
      'GRANT "reader" TO "app"',
      'GRANT "pg_read_all_data" TO "app"',
    ]);
  });
});
