// Pure SQL builders: identifiers through escapeIdentifier, literals through escapeLiteral (utility statements such
// as ALTER ROLE … PASSWORD take no $n parameters).
import pg from 'pg';

const ident = (s: string) => pg.escapeIdentifier(s);

export function createDatabaseStatement(name: string): string {
  return `CREATE DATABASE ${ident(name)} ENCODING 'UTF8' TEMPLATE template0`;
}

export function ownerStatement(database: string, owner: string): string {
  return `ALTER DATABASE ${ident(database)} OWNER TO ${ident(owner)}`;
}

/**
 * libpq DSN from one instance to the instances of a node: all of them, the writable one chosen by libpq. `ports`
 * (one per host) default to 5432, the port inside the database network. No password: the replication layer keeps
 * DSNs in its catalog (table files, WAL) and Postgres logs the calls that set them (log_statement); libpq reads the
 * password from `passfile`, a file in the instance's memory (instance-boot.ts).
 */
export function nodeDsn(o: { hosts: string[]; ports?: number[]; database: string; user: string; passfile: string }): string {
  const q = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const parts = [
    `host=${q(o.hosts.join(','))}`,
    `port=${q(o.hosts.map((_, i) => String(o.ports?.[i] ?? 5432)).join(','))}`,
    `dbname=${q(o.database)}`,
    `user=${q(o.user)}`,
    `passfile=${q(o.passfile)}`,
    ...(o.hosts.length > 1 ? ["target_session_attrs='read-write'"] : []),
    "connect_timeout='5'",
  ];
  return parts.join(' ');
}
