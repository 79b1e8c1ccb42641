import { describe, expect, it } from 'vitest';
import { createDatabaseStatement, nodeDsn, ownerStatement } from '../../activities/postgres/sql.js';

describe('database statements', () => {
  it('creates a UTF8 database from template0 and sets its owner', () => {
    expect(createDatabaseStatement('my db')).toBe(`CREATE DATABASE "my db" ENCODING 'UTF8' TEMPLATE template0`);
    expect(ownerStatement('app', 'admin')).toBe('ALTER DATABASE "app" OWNER TO "admin"');
  });
});

describe('nodeDsn', () => {
  it('targets the one instance of a single-host node, without target_session_attrs', () => {
    expect(nodeDsn({ hosts: ['shop-n1-689qacsi'], database: 'app', user: 'pgcp_replicator', passfile: '/run/pgcp/peers.pgpass' }))
      .toBe("host='shop-n1-689qacsi' port='5432' dbname='app' user='pgcp_replicator' passfile='/run/pgcp/peers.pgpass' connect_timeout='5'");
  });

  it('lists every instance of a multi-host node and asks libpq for the writable one', () => {
    const dsn = nodeDsn({ hosts: ['a', 'b', 'c'], database: 'app', user: 'u', passfile: '/p' });
    expect(dsn).toContain("host='a,b,c'");
    expect(dsn).toContain("port='5432,5432,5432'");
    expect(dsn).toContain("target_session_attrs='read-write'");
  });

  it('escapes quotes and backslashes in values as libpq expects', () => {
    const dsn = nodeDsn({ hosts: ['a'], database: "o'db", user: 'u', passfile: "/p'w\\d" });
    expect(dsn).toContain("dbname='o\\'db'");
    expect(dsn).toContain("passfile='/p\\'w\\\\d'");
    expect(dsn).not.toContain('password');
  });
});
