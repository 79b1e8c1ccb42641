// The version manifest: which image and replication driver serve a Postgres major (images/manifest.json, read
// through images/recipe.mjs, which also names each image by the hash of its recipe), and whether this host has
// built that image.
import type Docker from 'dockerode';
import { imageTag, majors, manifestEntry as recipeEntry, recipes } from '../../images/recipe.mjs';
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

/**
 * The manifest's images (every recipe: a major's default and its variants) that exist on this Docker engine, with
 * the exact Postgres version each carries.
 */
export async function builtImages(docker: Docker): Promise<BuiltImage[]> {
  const out: BuiltImage[] = [];
  for (const recipe of recipes()) {
    const { major, driver, extensions } = recipeEntry(recipe);
    const image = imageTag(recipe);
    const info = await inspectImageOrNull(docker, image);
    const version = info?.Config.Labels?.['pgcp.postgres_version'];
    if (version && !out.some((b) => b.postgresVersion === version)) {
      out.push({ major, image, driver, extensions: Object.keys(extensions ?? {}).sort(), postgresVersion: version, extensionVersions: parseExtensionsLabel(info?.Config.Labels?.['pgcp.extensions']) });
    }
  }
  return out;
}

/**
 * The image an instance runs: the one orchestrator_opts.swarm pins (it must exist on this engine), else the built
 * manifest image carrying exactly the node's Postgres version (what /upgrade moves to), else the major's default.
 */
export async function instanceImage(docker: Docker, o: { major: string; version: string | undefined; pinned: string | undefined; where: string }): Promise<string> {
  if (o.pinned) {
    if (!(await inspectImageOrNull(docker, o.pinned))) throw permanent(FailureType.imageMissing, `orchestrator_opts.swarm.image ${o.pinned} does not exist on ${o.where}`);
    return o.pinned;
  }
  const exact = o.version ? (await builtImages(docker)).find((b) => b.major === o.major && b.postgresVersion === o.version) : undefined;
  return exact?.image ?? (await requireBuiltImage(docker, o.major, o.where)).image;
}
