// GET /v1/docs: a browsable API reference (Scalar) over the same /v1/openapi.json the SDK's types are generated from.
// The page's script is Scalar's standalone bundle served from this API (scripts/setup.sh fetches it from the npm
// package into the cache), never from a CDN, and the page asks for no web fonts and sends no telemetry: it works
// on a machine without internet access.
import { readFile } from 'node:fs/promises';
import { Scalar } from '@scalar/hono-api-reference';
import { ApiError } from './errors.js';
import { createRouter } from './router.js';

export const docsPath = '/v1/docs';
const scriptPath = `${docsPath}/scalar.js`;

export function docsRoutes(o: { scriptFile: string }) {
  let script: Promise<Buffer> | undefined;
  return createRouter()
    .get(docsPath, Scalar({
      url: '/v1/openapi.json', cdn: scriptPath, pageTitle: 'pgcp API reference',
      withDefaultFonts: false, telemetry: false, defaultOpenAllTags: true,
    }))
    .get(scriptPath, async (c) => {
      script ??= readFile(o.scriptFile);
      const body = await script.catch(() => {
        script = undefined;
        throw new ApiError('not_found', `the API reference script is missing (${o.scriptFile}): run npm run setup`);
      });
      return c.body(new Uint8Array(body), 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
    });
}
