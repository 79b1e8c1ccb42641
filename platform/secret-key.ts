// The control plane's secret key: seals the secrets the store keeps (platform/secret-box.ts) and encrypts Temporal
// payloads (platform/payload-codec.ts). It is kept outside the store and outside Temporal: given by the operator
// (PGCP_SECRET_KEY, base64 of 32 bytes) or read from a file (PGCP_SECRET_KEY_FILE, default <data dir>/secret.key),
// which the first process to start generates, 0600. Every process of one control plane (API, workers, agents on
// other machines, the codec server) must hold the same key.
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const secretKeyBytes = 32;

/** A 32-byte key from its base64 (or hex) text; anything else is an error that says what is wrong, never the key. */
export function parseSecretKey(text: string, from: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== secretKeyBytes) throw new Error(`${from}: the secret key must be ${secretKeyBytes} bytes, as base64 (44 characters) or hex (64)`);
  return key;
}

/** Reads the key file, or creates it (0600, in a 0700 directory) when it does not exist; two processes racing agree. */
export function readOrCreateKeyFile(file: string): Buffer {
  try {
    return parseSecretKey(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(secretKeyBytes).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: use theirs
  }
  return parseSecretKey(readFileSync(file, 'utf8'), file);
}

export interface SecretKeySource { key: string | undefined; file: string }

export function loadSecretKey(source: SecretKeySource): Buffer {
  return source.key !== undefined ? parseSecretKey(source.key, 'PGCP_SECRET_KEY') : readOrCreateKeyFile(source.file);
}

/** A key for one purpose (the store's secrets, Temporal's payloads), so neither use can be turned against the other. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `pgcp ${purpose}`, secretKeyBytes));
}

/** A short, non-secret name of a key: tells which key sealed a value, so a wrong key gets a clear error. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}
