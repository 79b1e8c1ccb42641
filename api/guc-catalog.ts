// The recorded GUCs of each Postgres major (images/gucs/<major>.json, written by images/record-gucs.sh), read once
// on first use: what postgresql_conf is checked against.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../platform/config.js';
import type { GucCatalog } from '../workflows/model/validate-gucs.js';

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
