import { describe, expect, it } from 'vitest';
import { defaultHostAddress, loadConfig } from '../../platform/config.js';

describe('config', () => {
  it('gives host-N the loopback address 127.0.0.N', () => {
    expect(defaultHostAddress('host-1')).toBe('127.0.0.1');
    expect(defaultHostAddress('host-3')).toBe('127.0.0.3');
    expect(defaultHostAddress('eu-central-1')).toBe('127.0.0.1');
  });
  it('reads typed values from the environment and rejects a bad host id', () => {
    const c = loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_API_PORT: '3100' });
    expect(c).toMatchObject({ hostId: 'host-2', hostAddress: '127.0.0.2', api: { port: 3100 } });
    expect(() => loadConfig({ PGCP_HOST_ID: 'Host_2' })).toThrow(/PGCP_HOST_ID/);
  });
  it('turns mTLS on only with a CA, a server certificate and its key, as the reference (off by default)', () => {
    expect(loadConfig({}).api.tls).toBeNull();
    expect(loadConfig({ PGCP_HTTP_CA_CERT: 'ca', PGCP_HTTP_SERVER_CERT: 'c', PGCP_HTTP_SERVER_KEY: 'k' }).api.tls).toEqual({ caCert: 'ca', serverCert: 'c', serverKey: 'k' });
    expect(() => loadConfig({ PGCP_HTTP_CA_CERT: 'ca' })).toThrow(/PGCP_HTTP_SERVER_CERT and PGCP_HTTP_SERVER_KEY/);
    expect(() => loadConfig({ PGCP_HTTP_SERVER_CERT: 'c', PGCP_HTTP_SERVER_KEY: 'k' })).toThrow(/only with PGCP_HTTP_CA_CERT/);
    expect(() => loadConfig({ PGCP_TEMPORAL_CLIENT_CERT: 'c' })).toThrow(/go together/);
    expect(loadConfig({ PGCP_TEMPORAL_CA_CERT: 'ca' }).temporal.tls).toMatchObject({ caCert: 'ca' });
    expect(loadConfig({ PGCP_API_ALLOWED_HOSTS: 'a.example, b.example' }).api.allowedHosts).toEqual(['a.example', 'b.example']);
  });
});
