// The recorded GUCs of each Postgres major (images/gucs/<major>.json, written by images/record-gucs.sh), read once
// on first use: what postgresql_conf is checked against; and the libraries of the major's image
// (images/libraries/<major>.json, same script): what shared_preload_libraries is checked against.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../platform/config.js';
import type { GucCatalog } from '../workflows/model/validate-gucs.js';
import type { LibraryCatalog } from '../workflows/model/validate-preload.js';
import { majors, manifestEntry } from '../images/recipe.mjs';

const loaded = new Map<string, GucCatalog | undefined>();

export function gucCatalogPath(major: string): string {
  return path.join(projectRoot, 'images', 'gucs', `${major}.json`);
}

/** The major's catalog; undefined for a major nothing was recorded for (its conf is then not checked). */
export function gucCatalog(major: string): GucCatalog | undefined {
  if (!/^\d+$/.test(major)) return undefined;
  if (!loaded.has(major)) {
    const file = gucCatalogPath(major);
    loaded.set(major, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as GucCatalog) : undefined);
  }
  return loaded.get(major);
}

const libraries = new Map<string, LibraryCatalog | undefined>();

/**
 * The shared libraries in the major's image ($libdir, without `.so`) and its extensions in the version manifest;
 * undefined when no libraries were recorded for it (its preload list is then not checked).
 */
export function libraryCatalog(major: string): LibraryCatalog | undefined {
  if (!/^\d+$/.test(major)) return undefined;
  if (!libraries.has(major)) {
    const file = path.join(projectRoot, 'images', 'libraries', `${major}.json`);
    const extensions = majors().includes(major) ? Object.keys(manifestEntry(major).extensions ?? {}).sort() : [];
    libraries.set(major, existsSync(file) ? { libraries: JSON.parse(readFileSync(file, 'utf8')) as string[], extensions } : undefined);
  }
  return libraries.get(major);
}
