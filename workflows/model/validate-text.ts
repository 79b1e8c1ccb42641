// Pure: the character and identifier rules every string of a request meets before anything is planned, by where the
// string ends up. A value that becomes part of a line of a configuration file (patroni.yml, postgresql.conf,
// pg_hba.conf, pg_ident.conf, pgbackrest.conf) or of a command line may not hold a character that ends or breaks a
// line there: control characters (C0 with newline and carriage return, DEL, C1 with NEL), U+2028/U+2029, unpaired
// surrogates and U+FFFE/U+FFFF (PyYAML refuses the whole patroni.yml for them). pg_hba and pg_ident lines may hold
// tabs, their field separator. Identifiers (database, user and role names) are also held to Postgres's 63 bytes:
// longer ones are truncated by Postgres while this side compares the full name.
// Where each string goes: postgresql_conf keys and values, pg_hba_conf and pg_ident_conf lines → patroni.yml and the
// files Patroni writes from it; repository fields and custom_options → pgbackrest.conf lines (backup-repository.ts
// calls repositoryTextIssues); restore_options → Patroni's bootstrap command in patroni.yml; backup_options and
// annotations → pgBackRest's command line; schedule ids → Temporal schedule ids; names → SQL identifiers.
import type { BackupRepositorySpec, DatabaseSpec } from '../../api/schemas/database-spec.js';

export interface TextIssue { path: string; message: string }

/** Postgres's NAMEDATALEN - 1. */
export const maxIdentifierBytes = 63;

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const lineBreaking = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]|\p{Cs}/u;
const tab = /\t/;

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `s` cannot be part of a configuration line, or null. */
export function lineTextError(s: string, o: { allowTab?: boolean } = {}): string | null {
  const m = lineBreaking.exec(s) ?? (o.allowTab ? null : tab.exec(s));
  return m ? `must not contain control characters or line separators (found ${codePoint(m[0])} at position ${m.index})` : null;
}

/** UTF-8 length, counted by hand: TextEncoder is not a given in the workflow sandbox. */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Why `s` cannot be a Postgres identifier the control plane creates or names, or null. */
export function identifierError(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  const bytes = utf8Bytes(s);
  if (bytes > maxIdentifierBytes) return `must be at most ${maxIdentifierBytes} bytes (Postgres truncates longer names), got ${bytes}`;
  return lineTextError(s);
}

/** Names Postgres gives a meaning of their own where a role is expected (`GRANT … TO public`, `SET ROLE none`). */
export const specialRoleNames = ['public', 'none', 'current_user', 'session_user', 'current_role'];

/** Why `role` cannot be granted as one of a user's roles, or null. */
export function grantedRoleError(role: string): string | null {
  if (specialRoleNames.includes(role.toLowerCase())) return `"${role}" is reserved by Postgres`;
  return identifierError(role);
}

function push(out: TextIssue[], path: string, error: string | null): void {
  if (error) out.push({ path, message: error });
}

/** A map of options (custom_options, restore_options, backup_options, annotations): keys and values. */
export function optionsTextIssues(options: Record<string, unknown> | undefined, at: string, out: TextIssue[]): void {
  for (const [key, value] of Object.entries(options ?? {})) {
    push(out, at, lineTextError(key) && `key ${JSON.stringify(key)} ${lineTextError(key)}`);
    if (typeof value === 'string') push(out, `${at}[${key}]`, lineTextError(value));
  }
}

/** Every string field of a repository: each becomes a `repoN-…=value` line of pgbackrest.conf. */
export function repositoryTextIssues(r: Partial<BackupRepositorySpec>, at: string, out: TextIssue[]): void {
  for (const [field, value] of Object.entries(r)) {
    if (typeof value === 'string') push(out, `${at}.${field}`, lineTextError(value));
  }
  optionsTextIssues(r.custom_options, `${at}.custom_options`, out);
}

function confTextIssues(conf: Record<string, unknown> | undefined, at: string, out: TextIssue[]): void {
  for (const [key, value] of Object.entries(conf ?? {})) {
    const keyError = lineTextError(key);
    if (keyError) push(out, at, `key ${JSON.stringify(key)} ${keyError}`);
    else if (typeof value === 'string') push(out, `${at}[${key}]`, lineTextError(value));
  }
}

function linesTextIssues(lines: string[] | undefined, at: string, out: TextIssue[]): void {
  (lines ?? []).forEach((l, i) => push(out, `${at}[${i}]`, lineTextError(l, { allowTab: true })));
}

/** The spec's own strings, outside its repositories (validateRepository checks those wherever they appear). */
export function specTextIssues(spec: DatabaseSpec): TextIssue[] {
  const out: TextIssue[] = [];
  push(out, 'database_name', identifierError(spec.database_name));
  confTextIssues(spec.postgresql_conf, 'postgresql_conf', out);
  linesTextIssues(spec.pg_hba_conf, 'pg_hba_conf', out);
  linesTextIssues(spec.pg_ident_conf, 'pg_ident_conf', out);
  spec.nodes.forEach((n, i) => {
    confTextIssues(n.postgresql_conf, `nodes[${i}].postgresql_conf`, out);
    linesTextIssues(n.pg_hba_conf, `nodes[${i}].pg_hba_conf`, out);
    linesTextIssues(n.pg_ident_conf, `nodes[${i}].pg_ident_conf`, out);
  });
  (spec.database_users ?? []).forEach((u, i) => {
    push(out, `database_users[${i}].username`, identifierError(u.username));
    (u.roles ?? []).forEach((r, j) => push(out, `database_users[${i}].roles[${j}]`, grantedRoleError(r)));
  });
  return out;
}
