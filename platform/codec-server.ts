// The payload codec's HTTP endpoint, as the Temporal UI and CLI call it (POST /encode, POST /decode with
// {"payloads": [...]} in proto3 JSON: metadata values and data in base64): the UI shows workflow inputs, results and
// failures in clear to an operator whose browser reaches this endpoint. It holds the key, so it listens on loopback
// by default and answers cross-origin requests only from the Temporal UI's origins.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload { metadata?: Record<string, string>; data?: string }

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function createCodecApp(codec: PayloadCodec, origins: string[]): Hono {
  const app = new Hono();
  app.use('*', cors({ origin: origins, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'], credentials: true }));
  for (const op of ['encode', 'decode'] as const) {
    app.post(`/${op}`, async (c) => {
      const body = await c.req.json<{ payloads?: JsonPayload[] }>().catch(() => null);
      if (!body || !Array.isArray(body.payloads)) return c.json({ message: 'expected {"payloads": [...]}' }, 400);
      try {
        const out = await codec[op](body.payloads.map(fromJson));
        return c.json({ payloads: out.map(toJson) });
      } catch (err) {
        return c.json({ message: (err as Error).message }, 400);
      }
    });
  }
  return app;
}
