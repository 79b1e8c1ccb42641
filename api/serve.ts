// The API's listening socket: plain HTTP, or HTTPS with mandatory client certificates when mTLS is configured
// (PGCP_HTTP_CA_CERT, _SERVER_CERT, _SERVER_KEY — the reference's http.ca_cert, server_cert, server_key). As in the
// reference: TLS 1.3 at least, and a client certificate that does not chain to that CA (or none) is refused in the
// TLS handshake, before any HTTP is read. The files are read again by reloadTls (SIGHUP in api/main.ts), so a
// rotated server certificate or CA is taken without a restart.
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { ApiTlsConfig } from '../platform/config.js';

export function mtlsOptions(tls: ApiTlsConfig): ServerOptions {
  return {
    ca: readFileSync(tls.caCert),
    cert: readFileSync(tls.serverCert),
    key: readFileSync(tls.serverKey),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  };
}

export interface Listening { server: ServerType; url: string; close: () => Promise<void> }

/** Serves `app` on bind:port (port 0: any free one); resolves once it listens. */
export async function listen(app: { fetch: (req: Request) => Response | Promise<Response> }, o: { port: number; bind: string; tls: ApiTlsConfig | null }): Promise<Listening> {
  const server = o.tls
    ? serve({ fetch: app.fetch, port: o.port, hostname: o.bind, createServer: createHttpsServer, serverOptions: mtlsOptions(o.tls) })
    : serve({ fetch: app.fetch, port: o.port, hostname: o.bind });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `${o.tls ? 'https' : 'http'}://${host}:${a.port}`,
    close: () => new Promise<void>((r) => {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => r());
    }),
  };
}

/** Re-reads the certificate files: new connections use them, open ones keep theirs. */
export function reloadTls(server: ServerType, tls: ApiTlsConfig): void {
  (server as HttpsServer).setSecureContext(mtlsOptions(tls));
}
