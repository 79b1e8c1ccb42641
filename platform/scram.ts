// SCRAM-SHA-256 verifiers as Postgres stores them (RFC 5802/7677; src/common/scram-common.c), so the control plane
// keeps and sends only the verifier of a user's password: `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'` makes Postgres
// store it as given, and a login with the clear password works as if the password itself had been sent.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Postgres's default scram_iterations. */
export const scramIterations = 4096;
const verifierPattern = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

export function isScramVerifier(s: string): boolean {
  return verifierPattern.test(s);
}

// RFC 4013 SASLprep as Postgres applies it (pg_saslprep): non-ASCII spaces become spaces, "mapped to nothing"
// characters go, then NFKC; a password that is ASCII, or whose result holds prohibited characters, is used as is.
const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
const mappedToNothing = (c: number) => [0xad, 0x34f, 0x1806, 0x2060, 0xfeff].includes(c) || (c >= 0x180b && c <= 0x180d) || (c >= 0x200b && c <= 0x200d) || (c >= 0xfe00 && c <= 0xfe0f);
// eslint-disable-next-line no-control-regex
const prohibited = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\uE000-\uF8FF\uFFF9-\uFFFD\u2FF0-\u2FFB\u200E\u200F\u202A-\u202E\u206A-\u206F]/;
function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007F]*$/.test(password)) return password;
  const out = [...password.replace(nonAsciiSpace, ' ')].filter((ch) => !mappedToNothing(ch.codePointAt(0)!)).join('').normalize('NFKC');
  return out === '' || prohibited.test(out) ? password : out;
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}

/** The verifier of `password`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64). */
export function scramVerifier(password: string, o: { salt?: Buffer; iterations?: number } = {}): string {
  const salt = o.salt ?? randomBytes(16);
  const iterations = o.iterations ?? scramIterations;
  const k = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${k.storedKey.toString('base64')}:${k.serverKey.toString('base64')}`;
}

/** Whether `password` is the one `verifier` was made from. */
export function scramMatches(password: string, verifier: string): boolean {
  const m = verifierPattern.exec(verifier);
  if (!m) return false;
  const k = keys(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
  const stored = Buffer.from(m[3]!, 'base64');
  const server = Buffer.from(m[4]!, 'base64');
  return stored.length === 32 && server.length === 32 && timingSafeEqual(stored, k.storedKey) && timingSafeEqual(server, k.serverKey);
}
