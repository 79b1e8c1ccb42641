// /v1/docs in a real browser (Debian's chromium, headless, with no way out of this machine): the page renders from
// the API's own OpenAPI document and lists every operation; its script is served by the API, not a CDN.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpDom, screenshot } from '../support/chromium.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { serveApp } from '../support/http.js';

let t: TestApp;
let http: Awaited<ReturnType<typeof serveApp>>;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  http = await serveApp(t.app);
  base = http.url;
});
afterAll(async () => {
  await http?.close();
  await t?.db.drop();
});

/** What the page titles each operation with: its summary, else its path. */
async function operationTitles(): Promise<string[]> {
  const doc = await (await fetch(`${base}/v1/openapi.json`)).json() as { paths: Record<string, Record<string, { summary?: string }>> };
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.values(ops).map((op) => op.summary ?? p)).sort();
}

it('the page loads its script from this API and answers before the cluster is initialized', async () => {
  const html = await (await fetch(`${base}/v1/docs`)).text();
  expect(html).toContain('src="/v1/docs/scalar.js"');
  expect(html).not.toMatch(/src="https?:/);
  const script = await fetch(`${base}/v1/docs/scalar.js`);
  expect(script.status).toBe(200);
  expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
});

it('headless chromium shows every operation of the OpenAPI document', async () => {
  const dom = await dumpDom(`${base}/v1/docs`);
  const headings = [...dom.matchAll(/<h3[^>]*class="section-header-label"[^>]*>([^<]+)</g)].map((m) => m[1]!.trim()).sort();
  const titles = await operationTitles();
  expect(titles.length).toBeGreaterThan(25);
  expect(headings).toEqual(titles);
});

it('the screenshot is a rendered page, not a blank one', async () => {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'pgcp-docs-')), 'docs.png');
  await screenshot(`${base}/v1/docs`, file, '1280,1600');
  const png = await readFile(file);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 1600]); // IHDR width, height
  // A blank 1280×1600 page compresses to a few KB; text, tables and code samples do not.
  expect(png.length).toBeGreaterThan(50_000);
});
