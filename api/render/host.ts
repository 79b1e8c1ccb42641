// Pure: a host record + its last heartbeat → the pgEdge Host object.
import type { HostRecord, HostStatusRecord } from '../../store/hosts.js';
import type { Host } from '../schemas/cluster.js';
import { rfc3339 } from './time.js';

export interface HostRenderOptions { now: Date; staleAfterMs: number; apiPort: number }

/** SI bytes, humanize-style: 16000000000 → "16GB". */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 10 || i === 0 ? Math.round(v) : Math.round(v * 10) / 10}${units[i]}`;
}

export function hostState(status: HostStatusRecord | undefined, opts: HostRenderOptions): Host['status'] {
  if (!status) return { state: 'unknown', components: {} };
  const updated_at = rfc3339(status.updatedAt);
  if (opts.now.getTime() - status.updatedAt.getTime() > opts.staleAfterMs) return { state: 'unreachable', updated_at, components: {} };
  const unhealthy = Object.values(status.components).some((c) => !c.healthy);
  return { state: unhealthy ? 'degraded' : 'healthy', updated_at, components: status.components };
}

export function renderHost(host: HostRecord, status: HostStatusRecord | undefined, opts: HostRenderOptions): Host {
  const supported = (status?.details.supportedVersions ?? []).map(({ postgres_version, spock_version }) => ({ postgres_version, spock_version }));
  const out: Host = {
    id: host.id,
    orchestrator: 'docker',
    data_dir: host.dataDir,
    peer_addresses: [host.address],
    client_addresses: [host.address],
    ipv4_address: host.address,
    status: hostState(status, opts),
    etcd_mode: 'server',
  };
  if (host.cpus > 0) out.cpus = host.cpus;
  if (host.memoryBytes > 0) out.memory = humanBytes(host.memoryBytes);
  if (supported.length > 0) {
    out.supported_pgedge_versions = supported;
    out.default_pgedge_version = supported[supported.length - 1];
  }
  return out;
}
