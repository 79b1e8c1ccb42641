// Image recipe: which Postgres majors exist, and the content hash that names each image.
// Plain Node ESM, no dependencies. Types: ./recipe.d.mts. CLI usage at the bottom.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const IMAGE_REPO = 'pgcp/postgres';

function loadManifest() {
  return JSON.parse(readFileSync(join(HERE, 'manifest.json'), 'utf8'));
}

/** All Postgres majors in the manifest, ascending. */
export function majors() {
  return Object.keys(loadManifest()).sort((a, b) => Number(a) - Number(b));
}

/** The manifest entry for one major; throws for an unknown major. */
export function manifestEntry(major) {
  const entry = loadManifest()[String(major)];
  if (!entry) throw new Error(`unknown Postgres major ${major} (have: ${majors().join(' ')})`);
  return entry;
}

// JSON with sorted object keys, so key order in manifest.json does not change the hash.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// Relative paths ("usr/local/bin/x") of every file under dir, sorted.
function listFiles(dir, prefix = '') {
  const out = [];
  for (const ent of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** First 12 hex chars of sha256 over build.sh, the major's manifest entry and images/rootfs/. */
export function recipeHash(major) {
  const h = createHash('sha256');
  const part = (name, data) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    h.update(`${name}\0${buf.length}\0`);
    h.update(buf);
  };
  part('major', String(major));
  part('manifest', canonical(manifestEntry(major)));
  part('build.sh', readFileSync(join(HERE, 'build.sh')));
  const rootfs = join(HERE, 'rootfs');
  for (const rel of listFiles(rootfs)) part(`rootfs/${rel}`, readFileSync(join(rootfs, rel)));
  return h.digest('hex').slice(0, 12);
}

/** Docker tag of the image for one major: pgcp/postgres:<major>-<hash>. */
export function imageTag(major) {
  return `${IMAGE_REPO}:${major}-${recipeHash(major)}`;
}

function cli(argv) {
  const [cmd, major, key] = argv;
  switch (cmd) {
    case 'majors': return majors().join(' ');
    case 'tag': return imageTag(major);
    case 'hash': return recipeHash(major);
    case 'extension-packages': // Debian packages of the major's extensions, space-joined
      return Object.values(manifestEntry(major).extensions ?? {}).join(' ');
    case 'extensions': // "<extension>=<Debian package>" per extension, space-joined
      return Object.entries(manifestEntry(major).extensions ?? {}).map(([e, p]) => `${e}=${p}`).join(' ');
    case 'field': { // shell-friendly manifest field: arrays space-joined, missing -> ''
      const v = manifestEntry(major)[key];
      return v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
    }
    default:
      throw new Error('usage: node recipe.mjs majors | tag <major> | hash <major> | field <major> <key> | extensions <major> | extension-packages <major>');
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  try {
    console.log(cli(process.argv.slice(2)));
  } catch (err) {
    console.error(`recipe.mjs: ${err.message}`);
    process.exit(2);
  }
}
