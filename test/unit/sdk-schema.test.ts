// The SDK's types are generated from the API's OpenAPI document and committed: this regenerates them in memory and
// fails when sdk/schema.d.ts no longer matches the routes and schemas (run `npm run generate:sdk`).
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { generateSdkTypes, schemaFile } from '../../scripts/generate-sdk-types.js';

it('sdk/schema.d.ts is what the current API generates', async () => {
  const committed = await readFile(schemaFile, 'utf8');
  const current = await generateSdkTypes();
  // Not toBe on 1800 lines: name the first line that differs.
  const a = committed.split('\n');
  const b = current.split('\n');
  const at = b.findIndex((line, i) => line !== a[i]);
  expect(at === -1 && a.length === b.length ? 'in sync' : `sdk/schema.d.ts differs at line ${at + 1}: run npm run generate:sdk`).toBe('in sync');
});

it('the generated types cover the status report and the streamed log', async () => {
  const current = await generateSdkTypes();
  expect(current).toContain('"/v1/databases/{database_id}/status"');
  expect(current).toContain('"text/event-stream": string');
  expect(current).toMatch(/DatabaseStatus: \{/);
});
