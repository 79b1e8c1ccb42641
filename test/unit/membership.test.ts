import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { loadConfig } from '../../platform/config.js';
import { membershipFile, readMembership, removeMembership, withMembership, writeMembership, type Membership } from '../../platform/membership.js';
import { specWithoutHost } from '../../workflows/model/host-removal.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-membership-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const membership: Membership = {
  cluster_id: 'prod', host_id: 'host-2', joined_at: '2026-12-06T12:00:00.000Z',
  leader: { name: 'host-1', server_url: 'http://10.0.0.11:3000' },
  temporal: { address: '10.0.0.11:7233', namespace: 'pgcp' },
  store: { url: 'postgres://pgcp:secret@10.0.0.11:5432/pgcp' },
  etcd: { client_urls: ['http://10.0.0.11:2379'], container_hosts: ['10.0.0.11:2379'] },
  credentials: {},
};

describe('what a joined host keeps', () => {
  it('is written owner-only, read back whole, and replaces the configured services', () => {
    const dataDir = path.join(dir, 'data');
    expect(readMembership(dataDir)).toBeNull();
    writeMembership(dataDir, membership);
    expect(statSync(membershipFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readMembership(dataDir)).toEqual(membership);
    const config = withMembership(loadConfig({ PGCP_HOST_ID: 'host-2', PGCP_JOINS_CLUSTER: 'true' }), membership);
    expect(config).toMatchObject({
      hostId: 'host-2', joinsCluster: true, storeUrl: membership.store.url, etcdUrl: 'http://10.0.0.11:2379',
      etcdHostsForContainers: ['10.0.0.11:2379'], temporal: { address: '10.0.0.11:7233', namespace: 'pgcp' },
    });
    removeMembership(dataDir);
    expect(readMembership(dataDir)).toBeNull();
  });

  it('is refused when a field is missing', () => {
    const dataDir = path.join(dir, 'partial');
    writeMembership(dataDir, { ...membership, etcd: { client_urls: [], container_hosts: [] } });
    expect(() => readMembership(dataDir)).toThrow(/client_urls/);
  });
});

describe('specWithoutHost', () => {
  const spec: DatabaseSpec = {
    database_name: 'app', postgres_version: '15.20',
    nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'] }, { name: 'n2', host_ids: ['host-2'] }, { name: 'n3', host_ids: ['host-3'] }],
  };

  it('drops the host from every node and removes the nodes it was the only host of', () => {
    expect(specWithoutHost(spec, 'host-2')).toEqual({
      spec: { ...spec, nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n3', host_ids: ['host-3'] }] },
      removedNodes: ['n2'],
      changed: true,
    });
  });

  it('changes nothing for a database that does not name the host', () => {
    expect(specWithoutHost(spec, 'host-9')).toEqual({ spec, removedNodes: [], changed: false });
  });
});
