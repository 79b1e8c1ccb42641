// The version manifest: which image and replication driver serve a Postgres major (images/manifest.json, read
// through images/recipe.mjs, which also names each image by the hash of its recipe).
import type Docker from 'dockerode';
import { imageTag, majors, manifestEntry as recipeEntry } from '../../images/recipe.mjs';
import { inspectImageOrNull } from './client.js';

export type ReplicationDriverName = 'pglogical' | 'spock';

export interface ManifestEntry { major: string; image: string; driver: ReplicationDriverName }

export function manifestMajors(): string[] {
  return majors();
}

export function manifestEntry(major: string): ManifestEntry | null {
  if (!majors().includes(major)) return null;
  return { major, image: imageTag(major), driver: recipeEntry(major).driver };
}

export interface BuiltImage extends ManifestEntry { postgresVersion: string }

/** The manifest's images that exist on this Docker engine, with the exact Postgres version each carries. */
export async function builtImages(docker: Docker): Promise<BuiltImage[]> {
  const out: BuiltImage[] = [];
  for (const major of majors()) {
    const entry = manifestEntry(major);
    if (!entry) continue;
    const info = await inspectImageOrNull(docker, entry.image);
    const version = info?.Config.Labels?.['pgcp.postgres_version'];
    if (version) out.push({ ...entry, postgresVersion: version });
  }
  return out;
}
