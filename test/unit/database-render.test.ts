import { describe, expect, it } from 'vitest';
import type { DatabaseRecord } from '../../store/databases.js';
import type { InstanceRecord, InstanceStatus } from '../../store/instances.js';
import { databaseState, instanceState, renderDatabase, renderInstance, statusStaleMs } from '../../api/render/database.js';
import type { Instance } from '../../api/schemas/database.js';

const now = new Date('2026-11-24T10:00:30Z');
const rec = (patch: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id: 'shop-n1-689qacsi', databaseId: 'shop', nodeName: 'n1', hostId: 'host-1', state: 'available', error: null,
  stopped: false, createdAt: new Date('2026-11-24T09:00:00Z'), updatedAt: new Date('2026-11-24T09:05:00Z'), ...patch,
});
const running: InstanceStatus = {
  containerRunning: true, port: 5432, patroniState: 'running', role: 'primary', pendingRestart: false, postgresVersion: '17.6',
  replication: { readOnly: 'off', version: '4.0.10', subscriptions: [{ provider_node: 'n2', name: 'sub_n1n2', status: 'replicating' }] },
};
const observed = (status: InstanceStatus, ageMs = 2000) => ({ updatedAt: new Date(now.getTime() - ageMs), status });

describe('instanceState', () => {
  it.each([
    ['creating', 'creating'],
    ['failed', 'failed'],
    ['deleting', 'deleting'],
  ])('a stored %s wins over any live status', (stored, state) => {
    expect(instanceState(stored, running, true)).toBe(state);
  });

  it('is unknown without a status or with a stale one', () => {
    expect(instanceState('available', undefined, true)).toBe('unknown');
    expect(instanceState('available', running, false)).toBe('unknown');
  });

  it('is stopped when the container is not running', () => {
    expect(instanceState('available', { ...running, containerRunning: false }, true)).toBe('stopped');
  });

  it.each([
    ['running', 'available'],
    ['streaming', 'available'],
    ['starting', 'modifying'],
    ['creating replica', 'modifying'],
    ['crashed', 'degraded'],
    ['start failed', 'degraded'],
    ['something new', 'unknown'],
  ])('Patroni %s maps to %s', (patroniState, state) => {
    expect(instanceState('available', { ...running, patroniState }, true)).toBe(state);
  });

  it('is unknown when a running container has no Patroni state yet', () => {
    expect(instanceState('available', { containerRunning: true }, true)).toBe('unknown');
  });
});

describe('renderInstance', () => {
  it('shows a fresh primary with connection info, Postgres and spock details', () => {
    expect(renderInstance(rec(), observed(running), '10.0.0.1', now)).toEqual({
      id: 'shop-n1-689qacsi', host_id: 'host-1', node_name: 'n1',
      created_at: '2026-11-24T09:00:00Z', updated_at: '2026-11-24T09:05:00Z', status_updated_at: '2026-11-24T10:00:28Z',
      state: 'available',
      connection_info: { addresses: ['10.0.0.1'], port: 5432 },
      postgres: { version: '17.6', patroni_state: 'running', role: 'primary', pending_restart: false },
      spock: { read_only: 'off', version: '4.0.10', subscriptions: [{ provider_node: 'n2', name: 'sub_n1n2', status: 'replicating' }] },
    });
  });

  it('shows spock only on primaries', () => {
    const out = renderInstance(rec(), observed({ ...running, role: 'replica', patroniState: 'streaming' }), '10.0.0.1', now);
    expect(out.postgres).toMatchObject({ role: 'replica', patroni_state: 'streaming' });
    expect(out).not.toHaveProperty('spock');
  });

  it('drops live details when the status is stale, but says when it was last seen', () => {
    const out = renderInstance(rec(), observed(running, statusStaleMs + 1), '10.0.0.1', now);
    expect(out.state).toBe('unknown');
    expect(out.status_updated_at).toBe(rfc(now.getTime() - statusStaleMs - 1));
    for (const k of ['postgres', 'spock', 'connection_info']) expect(out).not.toHaveProperty(k);
  });

  it('still counts a status exactly at the stale limit as fresh', () => {
    expect(renderInstance(rec(), observed(running, statusStaleMs), '10.0.0.1', now).state).toBe('available');
  });

  it('has no status fields before the first report', () => {
    const out = renderInstance(rec(), undefined, '10.0.0.1', now);
    expect(out.state).toBe('unknown');
    for (const k of ['status_updated_at', 'postgres', 'spock', 'connection_info']) expect(out).not.toHaveProperty(k);
  });

  it('has no connection info when the host address is unknown', () => {
    expect(renderInstance(rec(), observed(running), undefined, now)).not.toHaveProperty('connection_info');
  });

  it('shows the stored error first, else the observed one', () => {
    expect(renderInstance(rec({ state: 'failed', error: 'image missing' }), observed({ ...running, error: 'x' }), undefined, now).error).toBe('image missing');
    expect(renderInstance(rec(), observed({ ...running, error: 'disk full' }), undefined, now).error).toBe('disk full');
  });
});

const rfc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const inst = (state: string): Instance => ({ id: 'i', host_id: 'h', node_name: 'n1', created_at: '', updated_at: '', state });

describe('databaseState', () => {
  it('is degraded when an available database has a stopped or degraded instance', () => {
    expect(databaseState('available', [inst('available'), inst('stopped')])).toBe('degraded');
    expect(databaseState('available', [inst('degraded')])).toBe('degraded');
  });

  it('stays available when instances are available, modifying or unknown', () => {
    expect(databaseState('available', [inst('available'), inst('modifying'), inst('unknown')])).toBe('available');
  });

  it('keeps any other stored state as it is', () => {
    expect(databaseState('modifying', [inst('stopped')])).toBe('modifying');
    expect(databaseState('failed', [inst('available')])).toBe('failed');
  });
});

describe('renderDatabase', () => {
  const db: DatabaseRecord = {
    id: 'shop', tenantId: null, state: 'available', createdAt: new Date('2026-11-24T09:00:00Z'), updatedAt: new Date('2026-11-24T09:10:00.900Z'),
    spec: { database_name: 'app', nodes: [{ name: 'n1', host_ids: ['host-1'] }], database_users: [{ username: 'admin', password: 'hunter2' }] },
  };

  it('shows the spec without passwords only when asked', () => {
    const out = renderDatabase(db, [], true);
    expect(out.spec?.database_users).toEqual([{ username: 'admin', db_owner: false }]);
    expect(renderDatabase(db, [], false)).not.toHaveProperty('spec');
  });

  it('omits tenant_id and instances when there are none, and derives the state', () => {
    const out = renderDatabase(db, [inst('stopped')], false);
    expect(out).toEqual({ id: 'shop', created_at: '2026-11-24T09:00:00Z', updated_at: '2026-11-24T09:10:00Z', state: 'degraded', instances: [inst('stopped')] });
    expect(renderDatabase(db, [], false)).not.toHaveProperty('instances');
  });
});
