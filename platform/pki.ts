// The cluster's PKI: one CA, and server and client certificates it signs, as PEM files in one directory (0700).
// Keys are made by node:crypto (EC P-256, PKCS#8) and written 0600 from the first byte; certificates are signed by
// the `openssl` CLI (OpenSSL 3, in every Debian image that has Postgres), because node:crypto can read X.509 but not
// sign it. The same CA serves the API's mTLS (PGCP_HTTP_*), the store's TLS and Temporal's.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** server: serverAuth; client: clientAuth; peer: both (a server that also calls its peers, e.g. Temporal's internode TLS). */
export type CertKind = 'server' | 'client' | 'peer';

export interface CertFiles { cert: string; key: string }

/** Certificate names become file names: no path separators, no leading dot. */
export const certNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export const caDays = 3650;
export const leafDays = 825;

/** The hosts a server certificate names by default: what a client on this machine dials. */
export const loopbackNames = ['localhost', '127.0.0.1', '::1'];

export function caFiles(dir: string): CertFiles {
  return { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
}

export function leafFiles(dir: string, name: string): CertFiles {
  if (!certNamePattern.test(name) || name === 'ca') throw new Error(`certificate name ${JSON.stringify(name)}: letters, digits, '.', '_', '-' only (and not "ca")`);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** A new private key, written 0600 (never readable by others, not even for an instant). */
function writeKey(file: string): void {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'w' });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** A DN value, escaped for openssl's config syntax. */
const dnValue = (v: string) => v.replace(/[\\"$]/g, (c) => `\\${c}`);

function sanList(hosts: string[]): string {
  return hosts.map((h) => (isIP(h.replace(/^\[|\]$/g, '')) ? `IP:${h.replace(/^\[|\]$/g, '')}` : `DNS:${h}`)).join(',');
}

function opensslConfig(cn: string, extensions: string[]): string {
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = "${dnValue(cn)}"`, '[ext]', ...extensions, ''].join('\n');
}

function openssl(args: string[], config: string): void {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgcp-pki-'));
  try {
    const cfg = path.join(tmp, 'openssl.cnf');
    writeFileSync(cfg, config);
    execFileSync('openssl', [...args, '-config', cfg, '-extensions', 'ext'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The cluster CA in `dir`: made once (key 0600), then kept — every certificate it signed stays valid. */
export function ensureCa(dir: string, commonName = 'pgcp cluster CA'): CertFiles & { created: boolean } {
  ensureDir(dir);
  const files = caFiles(dir);
  if (existsSync(files.cert) && existsSync(files.key)) return { ...files, created: false };
  writeKey(files.key);
  openssl(['req', '-x509', '-new', '-key', files.key, '-sha256', '-days', String(caDays), '-out', files.cert], opensslConfig(commonName, [
    'basicConstraints = critical,CA:TRUE,pathlen:0',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
  ]));
  return { ...files, created: true };
}

export interface IssueOptions {
  kind: CertKind;
  /** The file name and the certificate's CN (a client's identity; for Postgres client certificates, the role). */
  name: string;
  /** Server and peer certificates: the DNS names and IP addresses clients dial (default: localhost, 127.0.0.1, ::1). */
  hosts?: string[];
  days?: number;
  /** Where the key and certificate are written (default: `dir`, beside the CA): a host's, handed over, are not kept. */
  outDir?: string;
}

/** Issues (or re-issues: a new key and certificate replace the old) a certificate signed by the CA in `dir`. */
export function issueCertificate(dir: string, o: IssueOptions): CertFiles {
  const ca = caFiles(dir);
  if (!existsSync(ca.cert) || !existsSync(ca.key)) throw new Error(`no CA in ${dir}: make one first (npm run cert -- ca)`);
  const files = leafFiles(o.outDir ?? dir, o.name);
  writeKey(files.key);
  const extensions = [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    `extendedKeyUsage = ${{ server: 'serverAuth', client: 'clientAuth', peer: 'serverAuth,clientAuth' }[o.kind]}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    ...(o.kind !== 'client' ? [`subjectAltName = ${sanList(o.hosts?.length ? o.hosts : loopbackNames)}`] : []),
  ];
  openssl(['req', '-x509', '-new', '-key', files.key, '-CA', ca.cert, '-CAkey', ca.key, '-sha256', '-days', String(o.days ?? leafDays), '-out', files.cert],
    opensslConfig(o.name, extensions));
  return files;
}

/** What a certificate says about itself, for the CLI's output and the tests. */
export function describeCertificate(file: string): { subject: string; issuer: string; validTo: string; san: string | undefined; fingerprint256: string } {
  const c = new X509Certificate(readFileSync(file));
  return { subject: c.subject, issuer: c.issuer, validTo: c.validTo, san: c.subjectAltName, fingerprint256: c.fingerprint256 };
}

/** Keeps a certificate that exists and is valid for `minDays` more; issues it otherwise (`npm start -- --tls`). */
export function ensureCertificate(dir: string, o: IssueOptions, minDays = 30): CertFiles & { issued: boolean } {
  const files = leafFiles(dir, o.name);
  if (existsSync(files.cert) && existsSync(files.key)) {
    const c = new X509Certificate(readFileSync(files.cert));
    const ca = new X509Certificate(readFileSync(caFiles(dir).cert));
    if (c.verify(ca.publicKey) && Date.parse(c.validTo) > Date.now() + minDays * 86_400_000) return { ...files, issued: false };
  }
  return { ...issueCertificate(dir, o), issued: true };
}
