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

// A manifest key is a Postgres major ("15": its default image) or a pinned variant of one ("15-release":
// `{"of": "15", ...}`, the fields it sets over the major's entry), e.g. the suite without its updates, which holds an
// older minor: a second image of one major, something to upgrade from.
const majorOf = (key) => String(key).split('-')[0];

/** All Postgres majors in the manifest, ascending. */
export function majors() {
  return [...new Set(recipes().map(majorOf))].sort((a, b) => Number(a) - Number(b));
}

/** Every image recipe (majors and their variants), majors ascending, each major before its variants. */
export function recipes() {
  return Object.keys(loadManifest()).sort((a, b) => Number(majorOf(a)) - Number(majorOf(b)) || a.length - b.length || a.localeCompare(b));
}

/** The manifest entry of a recipe (a variant's fields over its major's), with its major; throws for an unknown one. */
export function manifestEntry(key) {
  const all = loadManifest();
  const own = all[String(key)];
  if (!own) throw new Error(`unknown image recipe ${key} (have: ${recipes().join(' ')})`);
  const { of, ...fields } = own;
  if (of === undefined) return { major: String(key), ...own };
  const base = all[String(of)];
  if (!base || base.of !== undefined) throw new Error(`image recipe ${key}: "of" must name a major, got ${of}`);
  return { ...base, ...fields, major: String(of) };
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
  const entry = manifestEntry(major);
  // a major's hash is what it was before variants existed: its own entry, without the derived `major`
  if (String(major) === entry.major) delete entry.major;
  part('major', String(major));
  part('manifest', canonical(entry));
  part('build.sh', readFileSync(join(HERE, 'build.sh')));
  const rootfs = join(HERE, 'rootfs');
  for (const rel of listFiles(rootfs)) part(`rootfs/${rel}`, readFileSync(join(rootfs, rel)));
  return h.digest('hex').slice(0, 12);
}

/** Docker tag of the image of one recipe: pgcp/postgres:<major>-<hash>, pgcp/postgres:<major>-<variant>-<hash>. */
export function imageTag(major) {
  return `${IMAGE_REPO}:${major}-${recipeHash(major)}`;
}

function cli(argv) {
  const [cmd, major, key] = argv;
  switch (cmd) {
    case 'majors': return majors().join(' ');
    case 'recipes': return recipes().join(' ');
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
      throw new Error('usage: node recipe.mjs majors | recipes | tag <recipe> | hash <recipe> | field <recipe> <key> | extensions <recipe> | extension-packages <recipe>');
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
