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
});
