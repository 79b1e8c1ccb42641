// mTLS: a client certificate the cluster revoked (a removed host's, or one its rotation replaced) is refused, though
// it still chains to the CA. The revocation list is the store's `revoked_certificates` (certificate fingerprints,
// written when a host's credentials are revoked), which every API of the cluster reads; an answer is kept 2 s per
// certificate, so a revocation takes effect within 2 s on connections already open and at once on new ones' first
// request after that. Without TLS there is no certificate and nothing to check.
import type { TLSSocket } from 'node:tls';
import type { MiddlewareHandler } from 'hono';
import type { Store } from '../store/db.js';
import { isCertificateRevoked } from '../store/host-credentials.js';
import { ApiError } from './errors.js';

const ttlMs = 2000;

/** The SHA-256 fingerprint of the request's client certificate, as X509Certificate.fingerprint256 writes it. */
function peerFingerprint(env: unknown): string | null {
  const socket = (env as { incoming?: { socket?: Partial<TLSSocket> } } | undefined)?.incoming?.socket;
  if (!socket || typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  return cert && cert.fingerprint256 ? cert.fingerprint256 : null;
}

export function refuseRevokedCertificates(store: Store): MiddlewareHandler {
  const cache = new Map<string, { revoked: boolean; at: number }>();
  return async (c, next) => {
    const fp = peerFingerprint(c.env);
    if (fp) {
      let hit = cache.get(fp);
      if (!hit || Date.now() - hit.at > ttlMs) {
        hit = { revoked: await isCertificateRevoked(store, fp), at: Date.now() };
        cache.set(fp, hit);
        if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
      }
      if (hit.revoked) throw new ApiError('certificate_revoked', 'this client certificate has been revoked');
    }
    await next();
  };
}
