// fetch over node:https with a client certificate, for an API that requires mTLS. Node's global fetch takes no
// client certificate without undici's Agent (not a dependency here), so https URLs go through an https.Agent;
// anything else through the global fetch. Response bodies stream (the task log's server-sent events work).
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface ClientTls {
  /** PEM of the CA the server's certificate chains to (the cluster CA); default: the system's roots. */
  ca?: string | Buffer;
  /** PEM of this client's certificate and key (npm run cert -- client <name>). */
  cert: string | Buffer;
  key: string | Buffer;
}

const nullBodyStatus = new Set([101, 204, 205, 304]);

export function tlsFetch(tls: ClientTls): (request: Request) => Promise<Response> {
  const agent = new Agent({ ...(tls.ca ? { ca: tls.ca } : {}), cert: tls.cert, key: tls.key, keepAlive: true, minVersion: 'TLSv1.3' });
  return async (request) => {
    const url = new URL(request.url);
    if (url.protocol !== 'https:') return fetch(request);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => { headers[k] = v; });
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: request.method, headers, agent, signal: request.signal }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) for (const x of v) out.append(k, x);
          else if (v !== undefined) out.set(k, v);
        }
        const status = res.statusCode ?? 500;
        const stream = nullBodyStatus.has(status) || request.method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (!stream) res.resume();
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: out }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}
