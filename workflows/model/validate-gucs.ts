// Pure: postgresql_conf checked against the parameters (GUCs) of the Postgres major each node runs, as recorded from
// the image by images/record-gucs.sh: the name must exist (or belong to an extension that is not loaded), must not be
// read-only, and the value must parse as Postgres would parse it — booleans, integers and reals with their units and
// ranges, enum values. A value Postgres refuses would otherwise be written to every member and fail at its start.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { postgresMajor } from './instances.js';

export interface GucInfo {
  type: 'bool' | 'integer' | 'real' | 'string' | 'enum';
  context: string;
  unit?: string;
  min?: number;
  max?: number;
  values?: string[];
}
export type GucCatalog = Record<string, GucInfo>;
export interface GucIssue { path: string; message: string }

/** How postgresql.conf spells a name: an identifier, or an extension's `prefix.name`. */
const confName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const memoryUnits: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const timeUnits: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** The GUC's unit as a multiple of bytes or milliseconds ("8kB" → 8192 bytes), and the units a value may carry. */
function unitScale(unit: string): { scale: number; units: Record<string, number> } | null {
  const m = /^(\d*)(\D+)$/.exec(unit);
  if (!m) return null;
  const n = m[1] ? Number(m[1]) : 1;
  if (memoryUnits[m[2]!] !== undefined) return { scale: n * memoryUnits[m[2]!]!, units: memoryUnits };
  if (timeUnits[m[2]!] !== undefined) return { scale: n * timeUnits[m[2]!]!, units: timeUnits };
  return null;
}

const numberText = /^\s*([+-]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))\s*([A-Za-z]+)?\s*$/;

/** Postgres's parse_bool: on/off, prefixes of true/false/yes/no, 1/0. */
function isBool(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (!s) return false;
  return ['true', 'false', 'yes', 'no'].some((w) => w.startsWith(s)) || (s.length >= 2 && ['on', 'off'].some((w) => w.startsWith(s))) || s === '1' || s === '0';
}

function numericError(g: GucInfo, value: unknown): string | null {
  const scaled = g.unit ? unitScale(g.unit) : null;
  const what = `${g.type === 'integer' ? 'an integer' : 'a number'}${g.unit ? ` in ${g.unit}${scaled ? ` or with a unit (${Object.keys(scaled.units).join(', ')})` : ''}` : ''}`;
  const range = g.min !== undefined && g.max !== undefined ? ` from ${g.min} to ${g.max}` : '';
  const bad = `must be ${what}${range}, got ${JSON.stringify(value)}`;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = numberText.exec(value);
    if (!m) return bad;
    n = (m[1]!.startsWith('-') ? -1 : 1) * Number(m[1]!.replace(/^[+-]/, '')); // Number reads 0x…, 1e3, .5 as strtol/strtod do
    if (m[2]) {
      const factor = scaled?.units[m[2]];
      if (!scaled || factor === undefined) return bad;
      n = (n * factor) / scaled.scale;
    }
  } else return bad;
  if (!Number.isFinite(n)) return bad;
  if (g.type === 'integer') n = Math.round(n);
  if ((g.min !== undefined && n < g.min) || (g.max !== undefined && n > g.max)) return bad;
  return null;
}

/** Why `value` is not a valid setting of `g`, or null. */
export function gucValueError(g: GucInfo, value: unknown): string | null {
  if (value === null || value === undefined) return null; // Patroni's way to leave a parameter unset
  switch (g.type) {
    case 'bool':
      return typeof value === 'boolean' || value === 0 || value === 1 || (typeof value === 'string' && isBool(value))
        ? null : `must be a boolean (on, off, true, false, yes, no, 1, 0), got ${JSON.stringify(value)}`;
    case 'integer':
    case 'real':
      return numericError(g, value);
    case 'enum': {
      const values = g.values ?? [];
      const s = String(value).trim().toLowerCase();
      // enums that list on and off also take Postgres's hidden boolean spellings
      const hidden = values.includes('on') && values.includes('off') ? ['true', 'false', 'yes', 'no', '1', '0'] : [];
      return [...values, ...hidden].some((v) => v.toLowerCase() === s) ? null : `must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`;
    }
    default:
      return null;
  }
}

/** Why `name` cannot be set in postgresql.conf of this major, or null; `catalog` is keyed by lower-case name. */
export function gucNameError(name: string, catalog: Map<string, GucInfo>, major: string): string | null {
  if (!confName.test(name)) return `"${name}" is not a parameter name (letters, digits and underscores, with at most one dot)`;
  const g = catalog.get(name.toLowerCase());
  if (g) return g.context === 'internal' ? `"${name}" is read-only: Postgres sets it itself` : null;
  const dot = name.indexOf('.');
  if (dot < 0) return `unknown parameter "${name}" for Postgres ${major}`;
  // an extension's parameter: unknown names of a loaded extension are dropped by Postgres; others wait for theirs
  const prefix = `${name.slice(0, dot + 1).toLowerCase()}`;
  return [...catalog.keys()].some((k) => k.startsWith(prefix)) ? `unknown parameter "${name}" for Postgres ${major}` : null;
}

function lowerCased(catalog: GucCatalog): Map<string, GucInfo> {
  return new Map(Object.entries(catalog).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Every postgresql_conf entry against the majors it applies to: a node's own entries against its major, the
 * database's against every node's. Majors without a recorded catalog are not checked.
 */
export function validateGucs(spec: DatabaseSpec, catalogs: (major: string) => GucCatalog | undefined): GucIssue[] {
  const out: GucIssue[] = [];
  const cache = new Map<string, Map<string, GucInfo> | undefined>();
  const catalogOf = (major: string) => {
    if (!cache.has(major)) {
      const c = catalogs(major);
      cache.set(major, c && lowerCased(c));
    }
    return cache.get(major);
  };
  const check = (conf: Record<string, unknown> | undefined, at: string, majors: string[]) => {
    for (const [name, value] of Object.entries(conf ?? {})) {
      const messages = new Set<string>();
      for (const major of majors) {
        const catalog = catalogOf(major);
        if (!catalog) continue;
        const error = gucNameError(name, catalog, major);
        const g = catalog.get(name.toLowerCase());
        const valueError = !error && g ? gucValueError(g, value) : null;
        if (error ?? valueError) messages.add((error ?? valueError)!);
      }
      for (const message of messages) out.push({ path: `${at}[${name}]`, message });
    }
  };
  const majorOf = (n: DatabaseSpec['nodes'][number]) => postgresMajor(n.postgres_version ?? spec.postgres_version ?? '');
  check(spec.postgresql_conf, 'postgresql_conf', [...new Set(spec.nodes.map(majorOf))]);
  spec.nodes.forEach((n, i) => check(n.postgresql_conf, `nodes[${i}].postgresql_conf`, [majorOf(n)]));
  return out;
}
