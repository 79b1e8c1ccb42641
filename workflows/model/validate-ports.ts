// Pure: the host ports a spec publishes, checked within the spec (two instances on one host), against every other
// database on the same hosts, and against the control plane's own ports (the API, Temporal, its UI, etcd, the
// store). A clash would otherwise fail at the container's start, after other instances were made.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

export interface PortIssue { path: string; message: string }
export interface PortClaim { hostId: string; port: number; path: string }

/** Each (host, port) an instance or service instance of the spec publishes on, with the field it comes from; 0 (any free port) is none. */
export function portClaims(spec: DatabaseSpec): PortClaim[] {
  const out: PortClaim[] = [];
  spec.nodes.forEach((n, i) => {
    for (const hostId of new Set(n.host_ids)) {
      for (const f of ['port', 'patroni_port'] as const) {
        const port = n[f] ?? spec[f];
        if (port !== undefined && port !== 0) out.push({ hostId, port, path: n[f] !== undefined ? `nodes[${i}].${f}` : f });
      }
    }
  });
  // a service instance publishes its port on each of its hosts
  (spec.services ?? []).forEach((s, i) => {
    if (s.port === undefined || s.port === 0) return;
    for (const hostId of new Set(s.host_ids)) out.push({ hostId, port: s.port, path: `services[${i}].port` });
  });
  return out;
}

/** Two instances of the spec on one host with the same port (the reference's message). */
export function duplicatePortIssues(spec: DatabaseSpec): PortIssue[] {
  const byHost = new Map<string, Map<number, string[]>>();
  for (const c of portClaims(spec)) {
    const ports = byHost.get(c.hostId) ?? new Map<number, string[]>();
    byHost.set(c.hostId, ports);
    ports.set(c.port, [...(ports.get(c.port) ?? []), c.path]);
  }
  const out: PortIssue[] = [];
  for (const [host, ports] of byHost) {
    for (const [port, paths] of ports) {
      if (paths.length > 1) out.push({ path: '', message: `duplicate ports allocated on host '${host}': '${port}' duplicated in: ${paths.join(', ')}` });
    }
  }
  return out;
}

/** Ports taken on the same host by another database, or by the control plane itself (`reserved`: port → what). */
export function foreignPortIssues(spec: DatabaseSpec, others: { id: string; spec: DatabaseSpec }[], reserved: Map<number, string>): PortIssue[] {
  const taken = new Map<string, string>();
  for (const o of others) {
    for (const c of portClaims(o.spec)) taken.set(`${c.hostId}:${c.port}`, `database ${o.id} (${c.path})`);
  }
  const out: PortIssue[] = [];
  const seen = new Set<string>();
  for (const c of portClaims(spec)) {
    const key = `${c.path}:${c.port}`;
    if (seen.has(key)) continue;
    const what = reserved.get(c.port);
    const other = taken.get(`${c.hostId}:${c.port}`);
    if (what) out.push({ path: c.path, message: `port ${c.port} is the control plane's own (${what})` });
    else if (other) out.push({ path: c.path, message: `port ${c.port} on host ${c.hostId} is already used by ${other}` });
    else continue;
    seen.add(key);
  }
  return out;
}
