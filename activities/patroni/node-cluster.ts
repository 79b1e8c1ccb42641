// A node's Patroni cluster as the control plane reaches it: the cluster view of the first member that answers, and
// the address of each running member. Read by the HA activities, the synchronous-standby checks and the join.
import type { HostDeps } from '../deps.js';
import { instanceAddress, type InstanceAddress } from '../addresses.js';
import type { DatabaseContext } from '../database-context.js';
import { listInstances } from '../../store/instances.js';
import { getPatroniCluster, type PatroniCluster } from './client.js';

/**
 * The node's cluster as the first answering member sees it, with the address of each running member. Members are
 * the instance records (not the spec): an instance leaving the node may still be its primary.
 */
export async function nodeCluster(deps: HostDeps, db: DatabaseContext, nodeName: string): Promise<{ cluster: PatroniCluster; address: Map<string, InstanceAddress> }> {
  const address = new Map<string, InstanceAddress>();
  let cluster: PatroniCluster | null = null;
  for (const m of (await listInstances(deps.store, db.databaseId)).filter((i) => i.nodeName === nodeName)) {
    const ip = await instanceAddress(deps, db.databaseId, m.id);
    if (!ip) continue;
    // a member of another engine cannot be inspected: it counts as running when its Patroni answers
    const answer: PatroniCluster | null = ip.via === 'published' || !cluster ? await getPatroniCluster(ip) : null;
    if (ip.via === 'published' && !answer) continue;
    address.set(m.id, ip);
    cluster ??= answer;
  }
  if (!cluster) throw new Error(`no member of node ${nodeName} answers`);
  return { cluster, address };
}
