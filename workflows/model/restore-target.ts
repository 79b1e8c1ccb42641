// Pure: a restore's recovery target (restore_options `type`, `target`, `set`, `target-action`, `target-exclusive`)
// checked before anything runs, and normalised into what pgBackRest takes. pgBackRest reads a time target only as
// `YYYY-MM-DD HH:MM:SS[.fraction][+/-HH[[:]MM]]` and refused the reference's own example, RFC 3339's
// `2025-01-01T01:30:00Z`, 70 s into a restore whose node was already stopped; both forms are accepted here and the
// RFC 3339 one is rewritten (`T` → space, `Z` → `+00`). A target time without an offset is Postgres's reading of it
// in the instance's time zone (UTC here).
import type { SpecIssue } from './backup-repository.js';

export const targetTypes = ['immediate', 'lsn', 'name', 'time', 'xid'];
export const restoreTypes = ['default', 'preserve', 'standby', ...targetTypes];
/** The types that need a `target` (and the only ones that take one). */
const typesWithTarget = ['lsn', 'name', 'time', 'xid'];

const timePattern = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

export interface ParsedTime {
  /** pgBackRest's form of it. */
  normalised: string;
  /** The instant in epoch ms, when the target names its offset (otherwise it depends on the server's time zone). */
  epochMs: number | null;
}

const daysInMonth = (y: number, m: number) => (m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil; no Date in workflow code). */
function daysFromEpoch(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** A time target in either form, or null when it is neither (or names a day or hour that does not exist). */
export function parseTargetTime(target: string): ParsedTime | null {
  const m = timePattern.exec(target.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zulu, sign, oh, om] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  const utcMs = ((daysFromEpoch(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000;
  if (oh !== undefined && (Number(oh) > 15 || Number(om ?? 0) > 59)) return null;
  const offset = zulu ? '+00' : sign ? `${sign}${oh}${om !== undefined ? `:${om}` : ''}` : '';
  const offsetMs = zulu ? 0 : sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om ?? 0)) * 60_000 : null;
  return {
    normalised: `${y}-${mo}-${d} ${h}:${mi}:${s}${frac}${offset}`,
    epochMs: offsetMs === null ? null : utcMs + Math.round(Number(`0${frac}`) * 1000) - offsetMs,
  };
}

const lsnPattern = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;
/** A backup label: a full backup, or a differential/incremental one on top of it. */
const setPattern = /^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/;

/**
 * Every problem of a restore's target options, at `path` (the restore_options map). `now` (epoch ms): a time target
 * after it cannot be reached yet (Postgres would stop at the end of the WAL and fail the restore).
 */
export function restoreTargetIssues(options: Record<string, string> | undefined, path: string, now?: number): SpecIssue[] {
  const o = options ?? {};
  const out: SpecIssue[] = [];
  const say = (message: string) => out.push({ path, message });
  const { type, target } = o;
  if (type !== undefined && !restoreTypes.includes(type)) say(`unknown restore type "${type}": one of ${restoreTypes.join(', ')}`);
  if (target !== undefined && !typesWithTarget.includes(type ?? '')) say(`"target" needs "type" lsn, name, time or xid${type ? `, not "${type}"` : ''}`);
  if (type && typesWithTarget.includes(type)) {
    if (target === undefined || target.trim() === '') say(`type "${type}" needs a "target"`);
    else if (type === 'time') {
      const t = parseTargetTime(target);
      if (!t) say(`target "${target}" is not a time: use RFC 3339 (2025-01-01T01:30:00Z) or pgBackRest's form (2025-01-01 01:30:00+00)`);
      else if (now !== undefined && t.epochMs !== null && t.epochMs > now) say(`target "${target}" is in the future: recovery cannot reach it`);
    } else if (type === 'lsn' && !lsnPattern.test(target)) say(`target "${target}" is not an LSN such as 0/3000000`);
    else if (type === 'xid' && !/^\d+$/.test(target)) say(`target "${target}" is not a transaction id (digits)`);
  }
  if (o.set !== undefined && !setPattern.test(o.set)) say(`set "${o.set}" is not a backup label such as 20250505-153628F or 20250505-153628F_20250506-010000I`);
  if (o['target-action'] !== undefined && !['pause', 'promote', 'shutdown'].includes(o['target-action'])) say(`target-action "${o['target-action']}" must be pause, promote or shutdown`);
  if (o['target-exclusive'] !== undefined && !['', 'y', 'n'].includes(o['target-exclusive'])) say(`target-exclusive must be empty, y or n`);
  return out;
}

/** The options with a time target in pgBackRest's form (only after restoreTargetIssues found none). */
export function normaliseRestoreOptions(options: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!options || options.type !== 'time' || options.target === undefined) return options;
  const t = parseTargetTime(options.target);
  return t ? { ...options, target: t.normalised } : options;
}
