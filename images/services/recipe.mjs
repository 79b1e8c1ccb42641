// Service images built here (no registry): the Node.js base (the Postgres 17 image, Debian trixie, plus Debian's
// nodejs), the MCP server (that base plus services/mcp bundled into one file by esbuild) and PgBouncer (the Postgres
// 17 image plus Debian's pgbouncer). Each is tagged by a
// hash of everything it is built from, so an unchanged recipe is never rebuilt. Plain Node ESM. CLI at the bottom.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { imageTag } from '../recipe.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

const hash = (parts) => {
  const h = createHash('sha256');
  for (const [name, data] of parts) { h.update(`${name}\0${data.length}\0`); h.update(data); }
  return h.digest('hex').slice(0, 12);
};

/** pgcp/node-base:<hash of its Dockerfile and the Postgres image it starts from>. */
export function nodeBaseTag() {
  const pg = imageTag(17);
  return `pgcp/node-base:${hash([['pg', Buffer.from(pg)], ['Dockerfile', readFileSync(join(HERE, 'node-base.Dockerfile'))]])}`;
}

/** pgcp/mcp:<hash of the base, its Dockerfile, the server's sources and the locked packages it bundles>. */
export function mcpTag() {
  const src = join(ROOT, 'services', 'mcp');
  const files = readdirSync(src).filter((f) => f.endsWith('.ts')).sort();
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const sdk = lock.packages?.['node_modules/@modelcontextprotocol/sdk']?.version ?? '';
  const pg = lock.packages?.['node_modules/pg']?.version ?? '';
  return `pgcp/mcp:${hash([
    ['base', Buffer.from(nodeBaseTag())], ['Dockerfile', readFileSync(join(HERE, 'mcp.Dockerfile'))], ['versions', Buffer.from(`${sdk} ${pg}`)],
    ...files.map((f) => [`src/${f}`, readFileSync(join(src, f))]),
  ])}`;
}

/** pgcp/pgbouncer:<hash of its Dockerfile and the Postgres image it starts from>. */
export function pgbouncerTag() {
  return `pgcp/pgbouncer:${hash([['pg', Buffer.from(imageTag(17))], ['Dockerfile', readFileSync(join(HERE, 'pgbouncer.Dockerfile'))]])}`;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  const [cmd] = process.argv.slice(2);
  if (cmd === 'node-base') console.log(nodeBaseTag());
  else if (cmd === 'mcp') console.log(mcpTag());
  else if (cmd === 'pgbouncer') console.log(pgbouncerTag());
  else { console.error('usage: node images/services/recipe.mjs node-base | mcp | pgbouncer'); process.exit(2); }
}
