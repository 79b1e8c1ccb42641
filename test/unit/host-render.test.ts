import { describe, expect, it } from 'vitest';
import { hostState, humanBytes, renderHost } from '../../api/render/host.js';
import { rfc3339 } from '../../api/render/time.js';
import type { HostStatusRecord } from '../../store/hosts.js';

const now = new Date('2026-11-24T10:00:30.456Z');
const opts = { now, staleAfterMs: 15_000, apiPort: 3000 };
const status = (ageMs: number, etcdHealthy = true): HostStatusRecord => ({
  hostId: 'host-1',
  updatedAt: new Date(now.getTime() - ageMs),
  components: { docker: { healthy: true, error: '' }, etcd: { healthy: etcdHealthy, error: etcdHealthy ? '' : 'connection refused' } },
  details: { supportedVersions: [{ postgres_version: '15.14', spock_version: '5' }, { postgres_version: '17.6', spock_version: '5' }] },
});

describe('host status', () => {
  it('is healthy when every component is and the heartbeat is fresh', () => {
    expect(hostState(status(2000), opts)).toMatchObject({ state: 'healthy', updated_at: '2026-11-24T10:00:28Z' });
  });
  it('is degraded when a component is unhealthy, and says which', () => {
    const s = hostState(status(2000, false), opts);
    expect(s.state).toBe('degraded');
    expect(s.components.etcd).toEqual({ healthy: false, error: 'connection refused' });
  });
  it('is unreachable when the heartbeat is stale, with no components', () => {
    expect(hostState(status(16_000), opts)).toEqual({ state: 'unreachable', updated_at: '2026-11-24T10:00:14Z', components: {} });
  });
  it('is unknown before the first heartbeat', () => {
    expect(hostState(undefined, opts)).toEqual({ state: 'unknown', components: {} });
  });
});

describe('renderHost', () => {
  it('reports the host address, memory in SI units and the newest version as default', () => {
    const host = renderHost({ id: 'host-2', address: '127.0.0.2', dataDir: '/d', cpus: 2, memoryBytes: 25_000_000_000 }, status(1000), opts);
    expect(host).toMatchObject({
      id: 'host-2', ipv4_address: '127.0.0.2', client_addresses: ['127.0.0.2'], cpus: 2, memory: '25GB',
      default_pgedge_version: { postgres_version: '17.6', spock_version: '5' },
    });
  });
});

describe('formats', () => {
  it('humanBytes follows SI like go-humanize', () => {
    expect(humanBytes(512)).toBe('512B');
    expect(humanBytes(16_000_000_000)).toBe('16GB');
    expect(humanBytes(1_500_000)).toBe('1.5MB');
  });
  it('rfc3339 drops fractional seconds', () => {
    expect(rfc3339(now)).toBe('2026-11-24T10:00:30Z');
  });
});
