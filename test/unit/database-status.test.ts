// The status report from store records and monitor reports: lag comes from the provider's slot, status from the
// subscriber, replicas from their primary's view; stale reports measure nothing.
import { expect, it } from 'vitest';
import { buildDatabaseStatus } from '../../api/database-status.js';
import { DatabaseStatusSchema } from '../../api/schemas/status.js';
import type { DatabaseRecord } from '../../store/databases.js';
import type { InstanceRecord, InstanceStatus } from '../../store/instances.js';
import { formatStatus } from '../../sdk/cli-format.js';

const now = new Date('2026-03-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const db: DatabaseRecord = {
  id: 'app', tenantId: null, state: 'available', createdAt: ago(3_600_000), updatedAt: ago(3_600_000),
  spec: { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'] }] } as DatabaseRecord['spec'],
};
const rec = (id: string, nodeName: string, hostId: string): InstanceRecord => ({ id, databaseId: 'app', nodeName, hostId, state: 'available', error: null, stopped: false, createdAt: ago(3_600_000), updatedAt: ago(3_600_000) });
const records = [rec('app-n1-a', 'n1', 'host-1'), rec('app-n1-b', 'n1', 'host-2'), rec('app-n2-a', 'n2', 'host-2')];
const primary = (subs: { provider_node: string; name: string; status: string }[], lag: InstanceStatus['lag'], backup?: InstanceStatus['backup']): InstanceStatus => ({
  containerRunning: true, patroniState: 'running', role: 'primary', replication: { readOnly: 'off', version: '2.4.2', subscriptions: subs }, lag, ...(backup ? { backup } : {}),
});

it('joins each subscription with its provider\'s slot, and each replica with its primary\'s stream', () => {
  const statuses = new Map([
    ['app-n1-a', { updatedAt: ago(1000), status: primary([{ provider_node: 'n2', name: 'sub_n1n2', status: 'replicating' }], {
      walLsn: '0/5000000',
      slots: [
        { name: 'pgl_app_n1_sub_n2n1', type: 'logical', active: false, retainedBytes: 9000, lagBytes: 8192, lagSeconds: 42, subscription: 'sub_n2n1', subscriberNode: 'n2', walStatus: 'lost' },
        { name: 'app_n1_b', type: 'physical', active: true, retainedBytes: 0 },
      ],
      replicas: [{ instanceId: 'app-n1-b', state: 'streaming', syncState: 'sync', lagBytes: 16, lagSeconds: 0.5 }],
    }, { checkedAt: ago(5000).toISOString(), count: 2, lastSuccessAt: ago(7_200_000).toISOString(), earliestRecoveryPoint: ago(86_400_000).toISOString() }) }],
    ['app-n1-b', { updatedAt: ago(1000), status: { containerRunning: true, patroniState: 'streaming', role: 'replica' } as InstanceStatus }],
    // n2's primary reported long ago (stopped): nothing it said counts now
    ['app-n2-a', { updatedAt: ago(60_000), status: primary([{ provider_node: 'n1', name: 'sub_n2n1', status: 'replicating' }], { walLsn: '0/1', slots: [], replicas: [] }) }],
  ]);
  const s = buildDatabaseStatus(db, records, statuses, now);
  expect(DatabaseStatusSchema.parse(s)).toEqual(s); // the shape the OpenAPI document (and the SDK's types) declare
  expect(s.subscriptions).toEqual([
    { name: 'sub_n1n2', subscriber_node: 'n1', provider_node: 'n2', status: 'replicating', lag_bytes: null, lag_seconds: null, slot_active: null },
    { name: 'sub_n2n1', subscriber_node: 'n2', provider_node: 'n1', status: 'unknown', lag_bytes: 8192, lag_seconds: 42, slot_active: false },
  ]);
  expect(s.replicas).toEqual([{ instance_id: 'app-n1-b', node_name: 'n1', host_id: 'host-2', state: 'streaming', sync_state: 'sync', lag_bytes: 16, lag_seconds: 0.5 }]);
  expect(s.slots.map((x) => [x.name, x.retained_bytes, x.wal_status])).toEqual([['pgl_app_n1_sub_n2n1', 9000, 'lost'], ['app_n1_b', 0, undefined]]);
  expect(s.nodes[0]).toMatchObject({ name: 'n1', primary_instance_id: 'app-n1-a', backup: { backup_count: 2, last_success_age_seconds: 7200, earliest_recovery_point: ago(86_400_000).toISOString() } });
  expect(s.nodes[1]).toEqual({ name: 'n2', host_ids: ['host-2'] });
  expect(s.instances.find((i) => i.id === 'app-n2-a')?.state).toBe('unknown');
  expect(s.state).toBe('available');

  const text = formatStatus(s);
  expect(text).toMatch(/sub_n2n1\s+n2\s+n1\s+unknown\s+no\s+8\.0 KiB\s+42s/);
  expect(text).toMatch(/app-n1-b\s+n1\s+host-2\s+streaming\s+sync\s+16 B\s+0\.5s/);
  expect(text).toMatch(/n1\s+2\s+\S+\s+2h0m/);
  expect(text).toMatch(/pgl_app_n1_sub_n2n1\s+logical\s+no\s+8\.8 KiB\s+lost/);
});
