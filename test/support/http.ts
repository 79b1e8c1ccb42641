// The test's API app on a real HTTP port (127.0.0.1, ephemeral), for clients that are not app.request(): the SDK,
// curl, the CLI, chromium, Prometheus.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export async function serveApp(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<{ url: string; close: () => Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => r());
    }),
  };
}
