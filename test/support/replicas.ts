// Replicas as the status report shows them. Replication inside a node is synchronous (activities/patroni/config.ts):
// Patroni promotes only the replica the primary's commits wait for, so a test that fails a primary over first waits
// until the node has one (a member that just rejoined is asynchronous while it catches up).
import type { ApiCall } from './api-client.js';
import { waitFor } from './wait.js';

interface ReplicaStatus { instance_id: string; node_name: string; state: string; sync_state?: string }

/**
 * Until a replica of `node` has been reported synchronous for 3 s without a break (one Patroni loop and a second:
 * the primary's loop may still drop a standby it listed, e.g. one that just restarted); returns it.
 */
export async function waitForSyncReplica(call: ApiCall, databaseId: string, node: string, timeoutMs = 120_000): Promise<ReplicaStatus> {
  let since: { id: string; at: number } | null = null;
  return waitFor(`a synchronous replica of node ${node}`, async () => {
    const replicas = ((await call('GET', `/v1/databases/${databaseId}/status`)).body.replicas ?? []) as ReplicaStatus[];
    const sync = replicas.find((r) => r.node_name === node && r.sync_state === 'sync');
    if (!sync || sync.instance_id !== since?.id) since = sync ? { id: sync.instance_id, at: Date.now() } : null;
    return sync && Date.now() - since!.at >= 3000 ? sync : null;
  }, timeoutMs, 500);
}
