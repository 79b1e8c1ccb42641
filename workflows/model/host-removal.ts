// Pure: a database's spec without a host, as DELETE /v1/hosts/{id}?force=true changes it (the reference's
// spec.RemoveHost): the host leaves every node's and every service's host_ids, and a node or service left with no
// host is removed from the spec.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

export interface SpecWithoutHost {
  spec: DatabaseSpec;
  /** Nodes whose only host it was: removed (their peers drop their subscriptions to them and their slots). */
  removedNodes: string[];
  /** Services whose only host it was: removed from the spec. */
  removedServices: string[];
  /** The spec still names the host somewhere: false means nothing changes for this database. */
  changed: boolean;
}

export function specWithoutHost(spec: DatabaseSpec, hostId: string): SpecWithoutHost {
  const removedNodes: string[] = [];
  let changed = false;
  const nodes = spec.nodes.flatMap((n) => {
    if (!n.host_ids.includes(hostId)) return [n];
    changed = true;
    const host_ids = n.host_ids.filter((h) => h !== hostId);
    if (host_ids.length === 0) {
      removedNodes.push(n.name);
      return [];
    }
    return [{ ...n, host_ids }];
  });
  const removedServices: string[] = [];
  const services = spec.services?.flatMap((sv) => {
    if (!sv.host_ids.includes(hostId)) return [sv];
    changed = true;
    const host_ids = sv.host_ids.filter((h) => h !== hostId);
    if (host_ids.length === 0) {
      removedServices.push(sv.service_id);
      return [];
    }
    return [{ ...sv, host_ids }];
  });
  return { spec: { ...spec, nodes, ...(services ? { services } : {}) }, removedNodes, removedServices, changed };
}
