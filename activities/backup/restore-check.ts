// Pure: whether a restore can start, judged from `pgbackrest info --output=json` of its source before any node is
// stopped: the repository answers and holds the stanza, it has a backup, the requested `set` is one of them, and a
// time target comes after the end of a backup it can start from (pgBackRest would otherwise pick a later backup and
// Postgres would stop recovery before the target). A problem is the message of a failed restore task, nothing else.
import { parseTargetTime } from '../../workflows/model/restore-target.js';

interface InfoBackup { label?: string; timestamp?: { start?: number; stop?: number }; error?: boolean }
interface InfoStanza { name?: string; status?: { code?: number; message?: string }; backup?: InfoBackup[] }

const isoSeconds = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The problem with restoring `options` from this repository, or null when the restore can start. */
export function restoreSourceProblem(infoJson: string, options: Record<string, string> | undefined, where: string): string | null {
  let stanzas: InfoStanza[];
  try {
    stanzas = JSON.parse(infoJson) as InfoStanza[];
  } catch {
    return `${where}: pgBackRest's info is not JSON`;
  }
  const stanza = stanzas[0];
  if (!stanza) return `${where}: no stanza in the repository`;
  const code = stanza.status?.code ?? 99;
  if (code !== 0) return `${where}: ${stanza.status?.message ?? `status ${code}`}`;
  const backups = (stanza.backup ?? []).filter((b) => !b.error && b.label);
  if (backups.length === 0) return `${where}: no backup in the repository`;
  const set = options?.set;
  const usable = set ? backups.filter((b) => b.label === set) : backups;
  if (set && usable.length === 0) return `${where}: backup set ${set} is not in the repository (it has ${backups.map((b) => b.label).join(', ')})`;
  if (options?.type === 'time' && options.target) {
    const t = parseTargetTime(options.target);
    if (t?.epochMs != null) {
      const ends = usable.map((b) => b.timestamp?.stop ?? Infinity);
      if (!ends.some((s) => s * 1000 <= t.epochMs!)) {
        const first = Math.min(...ends);
        return `${where}: no backup${set ? ` (set ${set})` : ''} ends before the target ${options.target}: the earliest ends at ${Number.isFinite(first) ? isoSeconds(first) : 'an unknown time'}`;
      }
    }
  }
  return null;
}
