// Pure: postgresql_conf.shared_preload_libraries checked against the libraries of the image each node runs (its
// $libdir as recorded by images/record-gucs.sh). A library the image lacks would stop Postgres at its start on every
// member ("could not access file"), after the task had already changed them: refused up front, naming the field.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { postgresMajor } from './instances.js';

/** Libraries of pgEdge's images this one does not have: spock's role is played by pglogical here, the others are dropped. */
export const unavailableLibraries: Record<string, string | null> = { spock: 'pglogical', snowflake: null, lolor: null };

/** What one image offers: the libraries in its $libdir (no `.so`), and the version manifest's extensions (for the message). */
export interface LibraryCatalog { libraries: string[]; extensions: string[] }
export interface PreloadIssue { path: string; message: string }

/** Postgres's list syntax: comma-separated, whitespace trimmed, a name may be double-quoted. */
export function preloadEntries(value: string): string[] {
  return value.split(',').map((l) => l.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean);
}

/** The library an entry names in the major's $libdir (`pg_cron`, `pg_cron.so`, `$libdir/pg_cron`, the directory's own path), or null for another path. */
export function libraryName(entry: string, major: string): string | null {
  const slash = entry.lastIndexOf('/');
  const dir = slash < 0 ? null : entry.slice(0, slash);
  if (dir !== null && dir !== '$libdir' && dir !== `/usr/lib/postgresql/${major}/lib`) return null;
  return entry.slice(slash + 1).replace(/\.so$/, '');
}

/** Why this entry cannot be preloaded by Postgres `major`, or null. */
export function preloadEntryError(entry: string, major: string, catalog: LibraryCatalog): string | null {
  const name = libraryName(entry, major);
  if (name !== null && (name in unavailableLibraries || catalog.libraries.includes(name))) return null;
  const extensions = catalog.extensions.length ? `its extensions: ${catalog.extensions.join(', ')}; ` : '';
  return `library "${entry}" is not in the image of Postgres ${major} (${extensions}Postgres's own libraries such as pg_stat_statements and auto_explain)`;
}

/**
 * Every shared_preload_libraries entry, the database's against every node's major, a node's own against its major.
 * Majors without recorded libraries are not checked.
 */
export function validatePreloadLibraries(spec: DatabaseSpec, catalogs: (major: string) => LibraryCatalog | undefined): PreloadIssue[] {
  const out: PreloadIssue[] = [];
  const check = (conf: Record<string, unknown> | undefined, at: string, majors: string[]) => {
    const key = Object.keys(conf ?? {}).find((k) => k.toLowerCase() === 'shared_preload_libraries');
    const value = key === undefined ? undefined : conf![key];
    if (typeof value !== 'string') return; // validateSpec refuses a non-string
    const messages = new Set<string>();
    for (const major of majors) {
      const catalog = catalogs(major);
      if (!catalog) continue;
      for (const entry of preloadEntries(value)) {
        const error = preloadEntryError(entry, major, catalog);
        if (error) messages.add(error);
      }
    }
    for (const message of messages) out.push({ path: `${at}[${key}]`, message });
  };
  const majorOf = (n: DatabaseSpec['nodes'][number]) => postgresMajor(n.postgres_version ?? spec.postgres_version ?? '');
  check(spec.postgresql_conf, 'postgresql_conf', [...new Set(spec.nodes.map(majorOf))]);
  spec.nodes.forEach((n, i) => check(n.postgresql_conf, `nodes[${i}].postgresql_conf`, [majorOf(n)]));
  return out;
}
