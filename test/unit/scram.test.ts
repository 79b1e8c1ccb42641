import { describe, expect, it } from 'vitest';
import { hashPasswords } from '../../api/spec-admission.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { isScramVerifier, scramMatches, scramVerifier } from '../../platform/scram.js';

// Made by Postgres 17 (password_encryption scram-sha-256): CREATE ROLE … PASSWORD '<clear>', then pg_authid.rolpassword.
const byPostgres = {
  ascii: { password: 'canary-pw-1', verifier: 'SCRAM-SHA-256$4096:CfQmEMi3g2yfLqzYUEuaIg==$Tyfk8uLpUAtkQR/vuroYoKMUlzaufM7GaGg7f/6qOCE=:vsCUwRcA3Fq0SBXFrzBPol4ZfpDdTC/QDdg0kzL6vsE=' },
  // non-ASCII, with a ligature SASLprep's NFKC turns into "fi"
  saslprep: { password: 'pässwörd ﬁ', verifier: 'SCRAM-SHA-256$4096:c4+zOiLlQ51jLTn7a3Ws6w==$COifPlTesIGgEqbRIwG9GBnzJ823LwzM4ggxCElXTYg=:wyITjTzt9ikwucRt5kpp2WCf+sGqoT1pFqJ9V8pcBMw=' },
};

describe('SCRAM-SHA-256 verifiers', () => {
  it('computes the keys Postgres computes for the same password and salt', () => {
    for (const { password, verifier } of Object.values(byPostgres)) {
      expect(scramMatches(password, verifier)).toBe(true);
      const [, iter, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(verifier)!;
      expect(scramVerifier(password, { salt: Buffer.from(salt!, 'base64'), iterations: Number(iter) })).toBe(verifier);
    }
  });

  it('does not match another password', () => {
    expect(scramMatches('canary-pw-2', byPostgres.ascii.verifier)).toBe(false);
    expect(scramMatches('canary-pw-1', 'md5abc')).toBe(false);
  });

  it('salts every verifier anew, and each names its own salt and iterations', () => {
    const a = scramVerifier('x');
    const b = scramVerifier('x');
    expect(a).not.toBe(b);
    expect(isScramVerifier(a)).toBe(true);
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(scramMatches('x', a) && scramMatches('x', b)).toBe(true);
  });
});

describe('hashPasswords (admission)', () => {
  const spec = (password?: string): DatabaseSpec => ({
    database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }],
    database_users: [{ username: 'admin', ...(password !== undefined ? { password } : {}), attributes: ['LOGIN'] }],
  });

  it('keeps only the verifier of a clear password', () => {
    const out = hashPasswords(spec('canary-clear'));
    const p = out.database_users![0]!.password!;
    expect(JSON.stringify(out)).not.toContain('canary-clear');
    expect(isScramVerifier(p) && scramMatches('canary-clear', p)).toBe(true);
  });

  it('keeps the stored verifier when an update repeats the password, makes a new one when it changes', () => {
    const stored = hashPasswords(spec('one'));
    const v = stored.database_users![0]!.password!;
    expect(hashPasswords(spec('one'), stored).database_users![0]!.password).toBe(v);
    const changed = hashPasswords(spec('two'), stored).database_users![0]!.password!;
    expect(changed).not.toBe(v);
    expect(scramMatches('two', changed)).toBe(true);
  });

  it('leaves an omitted password omitted and a given verifier as it is', () => {
    expect(hashPasswords(spec()).database_users![0]).not.toHaveProperty('password');
    expect(hashPasswords(spec(byPostgres.ascii.verifier)).database_users![0]!.password).toBe(byPostgres.ascii.verifier);
  });
});
