// A joined host's own store role, and the record of every credential the cluster issued to a host (its store role,
// etcd user and client certificate, by generation), so that removing the host — or rotating its credentials —
// revokes exactly those. The role may read and write the control plane's rows; it may not create or drop anything,
// read the credential records, or change the cluster's token or the revocation list.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { scramVerifier } from '../platform/scram.js';
import type { Store } from './db.js';

export interface HostCredentialRecord {
  hostId: string;
  generation: number;
  storeRole: string;
  etcdUser: string | null;
  certFingerprint: string | null;
  certSerial: string | null;
}

/** `pgcp_host_<host id>_<random>`: roles are shared by every database of a Postgres server, so a fresh name each time. */
export const newHostStoreRole = (hostId: string) => `pgcp_host_${hostId.replace(/-/g, '_')}_${randomBytes(4).toString('hex')}`;

/** Whether this process's store role can make other roles (the servers that issue a host's credentials can). */
export async function canCreateRoles(store: Store): Promise<boolean> {
  const { rows } = await store.query<{ ok: boolean }>('SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user');
  return rows[0]?.ok === true;
}

/** Tables a host's role reads but does not change, and tables it cannot read at all. */
const readOnlyTables = ['cluster', 'revoked_certificates', 'schema_migrations'];
const hiddenTables = ['host_credentials'];

/**
 * Creates the role with a SCRAM verifier of `password` (the clear password never reaches the server) and the
 * privileges a host's API and agent use in this store database, including on tables later migrations add.
 */
export async function createHostStoreRole(store: Store, role: string, password: string): Promise<void> {
  const r = pg.escapeIdentifier(role);
  const client = await store.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
    await client.query(`REVOKE INSERT, UPDATE, DELETE ON ${readOnlyTables.map((t) => pg.escapeIdentifier(t)).join(', ')} FROM ${r}`);
    await client.query(`REVOKE ALL ON ${hiddenTables.map((t) => pg.escapeIdentifier(t)).join(', ')} FROM ${r}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Revokes a host's store role: no new logins, its sessions ended, its privileges in this database dropped, the role
 * dropped. An absent role is fine (a retried removal).
 */
export async function dropHostStoreRole(store: Store, role: string): Promise<void> {
  const { rowCount } = await store.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (!rowCount) return;
  const r = pg.escapeIdentifier(role);
  await store.query(`ALTER ROLE ${r} NOLOGIN`);
  await store.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
  await store.query(`DROP OWNED BY ${r}`);
  await store.query(`DROP ROLE ${r}`);
}

export async function insertHostCredentials(store: Store, c: Omit<HostCredentialRecord, 'generation'>): Promise<HostCredentialRecord> {
  const { rows } = await store.query<{ generation: number }>(
    `INSERT INTO host_credentials (host_id, generation, store_role, etcd_user, cert_fingerprint, cert_serial)
     SELECT $1, coalesce(max(generation), 0) + 1, $2, $3, $4, $5 FROM host_credentials WHERE host_id = $1
     RETURNING generation`,
    [c.hostId, c.storeRole, c.etcdUser, c.certFingerprint, c.certSerial],
  );
  return { ...c, generation: rows[0]!.generation };
}

export async function listHostCredentials(store: Store, hostId: string): Promise<HostCredentialRecord[]> {
  const { rows } = await store.query<{ host_id: string; generation: number; store_role: string; etcd_user: string | null; cert_fingerprint: string | null; cert_serial: string | null }>(
    'SELECT host_id, generation, store_role, etcd_user, cert_fingerprint, cert_serial FROM host_credentials WHERE host_id = $1 ORDER BY generation',
    [hostId],
  );
  return rows.map((r) => ({ hostId: r.host_id, generation: r.generation, storeRole: r.store_role, etcdUser: r.etcd_user, certFingerprint: r.cert_fingerprint, certSerial: r.cert_serial }));
}

export async function deleteHostCredentials(store: Store, hostId: string, generation: number): Promise<void> {
  await store.query('DELETE FROM host_credentials WHERE host_id = $1 AND generation = $2', [hostId, generation]);
}

export async function revokeCertificate(store: Store, c: { fingerprint: string; serial: string; hostId: string }): Promise<void> {
  await store.query('INSERT INTO revoked_certificates (fingerprint, serial, host_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [c.fingerprint, c.serial, c.hostId]);
}

export async function isCertificateRevoked(store: Store, fingerprint: string): Promise<boolean> {
  const { rowCount } = await store.query('SELECT 1 FROM revoked_certificates WHERE fingerprint = $1', [fingerprint]);
  return (rowCount ?? 0) > 0;
}
