// A joined host's own credentials: issued by a server that holds the control plane's administrative ones (the
// store's owner, etcd's root, the cluster CA's key) when the host joins, and revoked when it is removed (or when a
// rotation replaced them). What is issued per host: a store role (scram), an etcd user (readwrite on Patroni's keys
// only) and, when the cluster's API or Temporal speak TLS, a client certificate signed by the cluster CA. The clear
// passwords and the private key exist only in the join's answer and on the host; the store records their names and
// the certificate's fingerprint, which a removal revokes.
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { caFiles, issueCertificate } from '../../platform/pki.js';
import type { Store } from '../../store/db.js';
import {
  createHostStoreRole, deleteHostCredentials, dropHostStoreRole, insertHostCredentials, listHostCredentials, newHostStoreRole, revokeCertificate,
  type HostCredentialRecord,
} from '../../store/host-credentials.js';
import { createHostEtcdUser, newHostEtcdUser, removeEtcdUser, type Etcd } from '../etcd.js';

export interface IssuedHostCredentials {
  record: HostCredentialRecord;
  store: { user: string; password: string };
  etcd: { user: string; password: string } | null;
  /** PEM: the cluster CA's certificate, the host's client certificate and its key. */
  certificate: { ca: string; cert: string; key: string } | null;
}

export interface IssueDeps { store: Store; etcd: Etcd; pkiDir: string; /** Issue a client certificate (the API or Temporal speak TLS). */ tls: boolean }

const newPassword = () => randomBytes(24).toString('base64url');

/** The certificate's CN: the host it identifies. */
export const hostCertificateName = (hostId: string) => `pgcp-host.${hostId}`;

function issueClientCertificate(pkiDir: string, hostId: string): { ca: string; cert: string; key: string; fingerprint: string; serial: string } {
  const out = mkdtempSync(path.join(os.tmpdir(), 'pgcp-host-cert-'));
  try {
    const files = issueCertificate(pkiDir, { kind: 'client', name: hostCertificateName(hostId), outDir: out });
    const cert = readFileSync(files.cert, 'utf8');
    const x = new X509Certificate(cert);
    return { ca: readFileSync(caFiles(pkiDir).cert, 'utf8'), cert, key: readFileSync(files.key, 'utf8'), fingerprint: x.fingerprint256, serial: x.serialNumber };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Issues a new generation of the host's credentials; whatever was made is undone if a later part fails. */
export async function issueHostCredentials(deps: IssueDeps, hostId: string): Promise<IssuedHostCredentials> {
  const storeRole = newHostStoreRole(hostId);
  const storePassword = newPassword();
  const etcdUser = deps.etcd.canManageUsers ? { user: newHostEtcdUser(hostId), password: newPassword() } : null;
  const withCert = deps.tls && existsSync(caFiles(deps.pkiDir).key);
  let madeRole = false;
  try {
    await createHostStoreRole(deps.store, storeRole, storePassword);
    madeRole = true;
    if (etcdUser) await createHostEtcdUser(deps.etcd, etcdUser.user, etcdUser.password);
    const cert = withCert ? issueClientCertificate(deps.pkiDir, hostId) : null;
    const record = await insertHostCredentials(deps.store, {
      hostId, storeRole, etcdUser: etcdUser?.user ?? null, certFingerprint: cert?.fingerprint ?? null, certSerial: cert?.serial ?? null,
    });
    return {
      record,
      store: { user: storeRole, password: storePassword },
      etcd: etcdUser,
      certificate: cert ? { ca: cert.ca, cert: cert.cert, key: cert.key } : null,
    };
  } catch (err) {
    if (etcdUser) await removeEtcdUser(deps.etcd, etcdUser.user).catch(() => undefined);
    if (madeRole) await dropHostStoreRole(deps.store, storeRole).catch(() => undefined);
    throw err;
  }
}

/** Revokes one generation: its store role and etcd user dropped, its certificate on the revocation list. */
export async function revokeHostCredentialRecord(deps: { store: Store; etcd: Etcd }, r: HostCredentialRecord): Promise<void> {
  await dropHostStoreRole(deps.store, r.storeRole);
  if (r.etcdUser && deps.etcd.canManageUsers) await removeEtcdUser(deps.etcd, r.etcdUser);
  if (r.certFingerprint && r.certSerial) await revokeCertificate(deps.store, { fingerprint: r.certFingerprint, serial: r.certSerial, hostId: r.hostId });
  await deleteHostCredentials(deps.store, r.hostId, r.generation);
}

/** Every credential the host was issued (a removed host), or every one older than `keepGeneration` (a rotation). */
export async function revokeHostCredentials(deps: { store: Store; etcd: Etcd }, hostId: string, keepGeneration?: number): Promise<number> {
  const records = (await listHostCredentials(deps.store, hostId)).filter((r) => keepGeneration === undefined || r.generation < keepGeneration);
  for (const r of records) await revokeHostCredentialRecord(deps, r);
  return records.length;
}
