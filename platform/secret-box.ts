// AES-256-GCM sealing of the secrets the store keeps (database secrets, restore keys, specs with their repository
// keys and password verifiers). A sealed value is a small JSON object, so it fits the store's jsonb columns; the
// associated data binds it to its row and column, so a sealed value copied to another database's row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey, keyId } from './secret-key.js';

export interface Sealed { sealed: 'aes-256-gcm'; kid: string; iv: string; tag: string; data: string }

export function isSealed(v: unknown): v is Sealed {
  return typeof v === 'object' && v !== null && (v as { sealed?: unknown }).sealed === 'aes-256-gcm';
}

export interface SecretBox {
  /** `value` as JSON, encrypted; `context` names where it is kept (e.g. `databases.secrets:<id>`). */
  seal(value: unknown, context: string): Sealed;
  /** The value sealed under `context`; a value that is not sealed (a row from before sealing) is returned as is. */
  open<T>(value: T | Sealed, context: string): T;
}

export function createSecretBox(masterKey: Buffer): SecretBox {
  const key = deriveKey(masterKey, 'store secrets');
  const kid = keyId(key);
  return {
    seal(value, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return { sealed: 'aes-256-gcm', kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open<T>(value: T | Sealed, context: string): T {
      if (!isSealed(value)) return value;
      if (value.kid !== kid) throw new Error(`${context}: sealed with key ${value.kid}, but this process holds key ${kid} (PGCP_SECRET_KEY / PGCP_SECRET_KEY_FILE)`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(value.iv, 'base64'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
      try {
        return JSON.parse(Buffer.concat([decipher.update(Buffer.from(value.data, 'base64')), decipher.final()]).toString('utf8')) as T;
      } catch {
        throw new Error(`${context}: the sealed value does not open (altered, or moved from another row)`);
      }
    },
  };
}
