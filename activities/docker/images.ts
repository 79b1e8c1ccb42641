// The version manifest: which image and replication driver serve a Postgres major (images/manifest.json, read
// through images/recipe.mjs, which also names each image by the hash of its recipe), and whether this host has
// built that image.
import type Docker from 'dockerode';
import { imageTag, majors, manifestEntry as recipeEntry } from '../../images/recipe.mjs';
import { FailureType, permanent } from '../errors.js';
import { inspectImageOrNull } from './client.js';

export type ReplicationDriverName = 'pglogical' | 'spock';

/** extensions: what CREATE EXTENSION finds in the image besides Postgres's own (pgvector is `vector`). */
export interface ManifestEntry { major: string; image: string; driver: ReplicationDriverName; extensions: string[] }

export function manifestMajors(): string[] {
  return majors();
}

export function manifestEntry(major: string): ManifestEntry | null {
  if (!majors().includes(major)) return null;
  const entry = recipeEntry(major);
  return { major, image: imageTag(major), driver: entry.driver, extensions: Object.keys(entry.extensions ?? {}).sort() };
}

/** The manifest's entry for a Postgres major; a major it does not serve fails for good. */
export function requireManifestEntry(major: string): ManifestEntry {
  const entry = manifestEntry(major);
  if (!entry) throw permanent(FailureType.imageMissing, `no image for Postgres ${major} in the version manifest`);
  return entry;
}

/** The manifest's entry for a Postgres major whose image is built on this Docker engine; else fails for good. */
export async function requireBuiltImage(docker: Docker, major: string, where: string): Promise<ManifestEntry> {
  const entry = requireManifestEntry(major);
  if (!(await inspectImageOrNull(docker, entry.image))) {
    throw permanent(FailureType.imageMissing, `image ${entry.image} is not built on ${where}: run npm run setup`);
  }
  return entry;
}

/** extensionVersions: each extension's version in the image, from its label (the Debian package's upstream version). */
export interface BuiltImage extends ManifestEntry { postgresVersion: string; extensionVersions: Record<string, string> }

/** The `pgcp.extensions` label ("pg_cron=1.6.5 vector=0.8.0") as a map. */
export function parseExtensionsLabel(label: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (label ?? '').split(/\s+/).filter(Boolean)) {
    const [name, version] = pair.split('=');
    if (name && version && version !== 'none') out[name] = version;
  }
  return out;
}

/** The manifest's images that exist on this Docker engine, with the exact Postgres version each carries. */
export async function builtImages(docker: Docker): Promise<BuiltImage[]> {
  const out: BuiltImage[] = [];
  for (const major of majors()) {
    const entry = manifestEntry(major);
    if (!entry) continue;
    const info = await inspectImageOrNull(docker, entry.image);
    const version = info?.Config.Labels?.['pgcp.postgres_version'];
    if (version) out.push({ ...entry, postgresVersion: version, extensionVersions: parseExtensionsLabel(info?.Config.Labels?.['pgcp.extensions']) });
  }
  return out;
}
