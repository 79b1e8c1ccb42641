import { describe, expect, it } from 'vitest';
import { createDatabaseStatement, nodeDsn, ownerStatement, roleStatements } from '../../activities/postgres/sql.js';

describe('roleStatements', () => {
  it('creates a missing role, then sets attributes and password, then grants roles', () => {
    expect(roleStatements({ username: 'app', password: 'pw', attributes: ['login', 'CreateDB'], roles: ['pg_read_all_data', 'pg_write_all_data'] }, false)).toEqual([
      'CREATE ROLE "app"',
      `ALTER ROLE "app" WITH LOGIN CREATEDB PASSWORD 'pw'`,
      'GRANT "pg_read_all_data" TO "app"',
      'GRANT "pg_write_all_data" TO "app"',
    ]);
  });

  it('does not create a role that exists, but still converges it', () => {
    const out = roleStatements({ username: 'app', password: 'pw' }, true);
    expect(out).toEqual([`ALTER ROLE "app" WITH PASSWORD 'pw'`]);
  });

  it('emits only CREATE ROLE for a bare new user, and nothing for a bare existing one', () => {
    expect(roleStatements({ username: 'app' }, false)).toEqual(['CREATE ROLE "app"']);
    expect(roleStatements({ username: 'app' }, true)).toEqual([]);
  });

  it('escapes a password containing a quote as a literal', () => {
    const [alter] = roleStatements({ username: 'app', password: "it's" }, true);
    expect(alter).toBe(`ALTER ROLE "app" WITH PASSWORD 'it''s'`);
  });

  it('uses an E-literal for a password with a backslash', () => {
    const [alter] = roleStatements({ username: 'app', password: 'a\\b' }, true);
    // pg.escapeLiteral prefixes E-literals with a space, harmless in SQL.
    expect(alter).toMatch(/^ALTER ROLE "app" WITH PASSWORD +E'a\\\\b'$/);
  });

  it('quotes identifiers, so a username cannot inject SQL', () => {
    const out = roleStatements({ username: 'x"; DROP TABLE t; --', roles: ['Mixed Case'] }, false);
    expect(out).toEqual(['CREATE ROLE "x""; DROP TABLE t; --"', 'GRANT "Mixed Case" TO "x""; DROP TABLE t; --"']);
  });
});

describe('database statements', () => {
  it('creates a UTF8 database from template0 and sets its owner', () => {
    expect(createDatabaseStatement('my db')).toBe(`CREATE DATABASE "my db" ENCODING 'UTF8' TEMPLATE template0`);
    expect(ownerStatement('app', 'admin')).toBe('ALTER DATABASE "app" OWNER TO "admin"');
  });
});

describe('nodeDsn', () => {
  it('targets the one instance of a single-host node, without target_session_attrs', () => {
    expect(nodeDsn({ hosts: ['shop-n1-689qacsi'], database: 'app', user: 'pgcp_replicator', password: 'pw' }))
      .toBe("host='shop-n1-689qacsi' port='5432' dbname='app' user='pgcp_replicator' password='pw' connect_timeout='5'");
  });

  it('lists every instance of a multi-host node and asks libpq for the writable one', () => {
    const dsn = nodeDsn({ hosts: ['a', 'b', 'c'], database: 'app', user: 'u', password: 'pw' });
    expect(dsn).toContain("host='a,b,c'");
    expect(dsn).toContain("port='5432,5432,5432'");
    expect(dsn).toContain("target_session_attrs='read-write'");
  });

  it('escapes quotes and backslashes in values as libpq expects', () => {
    const dsn = nodeDsn({ hosts: ['a'], database: "o'db", user: 'u', password: "p'w\\d" });
    expect(dsn).toContain("dbname='o\\'db'");
    expect(dsn).toContain("password='p\\'w\\\\d'");
  });
});
