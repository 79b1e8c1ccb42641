// Replicas as the status report shows them. Replication inside a node is synchronous (activities/patroni/config.ts):
// Patroni promotes only the replica the primary's commits wait for, so a test that fails a primary over first waits
// until the node has one (a member that just rejoined is asynchronous while it catches up).
import type { ApiCall } from './api-client.js';
import { waitFor } from './wait.js';

interface ReplicaStatus { instance_id: string; node_name: string; state: string; sync_state?: string }

/** Until a replica of `node` is synchronous; returns it. */
export async function waitForSyncReplica(call: ApiCall, databaseId: string, node: string, timeoutMs = 120_000): Promise<ReplicaStatus> {
  return waitFor(`a synchronous replica of node ${node}`, async () => {
    const replicas = ((await call('GET', `/v1/databases/${databaseId}/status`)).body.replicas ?? []) as ReplicaStatus[];
    return replicas.find((r) => r.node_name === node && r.sync_state === 'sync') ?? null;
  }, timeoutMs, 500);
}
