import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { controlPlanePorts, loadConfig } from '../../platform/config.js';
import { foreignPortIssues } from '../../workflows/model/validate-ports.js';

const db = (nodes: DatabaseSpec['nodes'], patch: Partial<DatabaseSpec> = {}): DatabaseSpec => ({ database_name: 'app', nodes, ...patch });
const reserved = controlPlanePorts(loadConfig({}));

describe('ports against other databases and the control plane', () => {
  const other = { id: 'other', spec: db([{ name: 'n1', host_ids: ['host-1'], port: 21000 }, { name: 'n2', host_ids: ['host-2'], port: 21001, patroni_port: 28008 }]) };

  it('the control plane\'s ports come from its configuration: API, Temporal and its UI, etcd, the store, the codec server', () => {
    expect([...reserved.keys()].sort()).toEqual([2379, 2380, 3000, 7233, 7432, 8233, 8234]);
    expect(controlPlanePorts(loadConfig({ PGCP_API_PORT: '3100', PGCP_STORE_URL: 'postgres://pgcp@127.0.0.1:6543/pgcp' })).get(6543)).toBe('store Postgres');
  });

  it('refuses a port another database publishes on the same host, naming the field and the database', () => {
    expect(foreignPortIssues(db([{ name: 'n1', host_ids: ['host-1'], port: 21000 }]), [other], reserved)).toEqual([
      { path: 'nodes[0].port', message: 'port 21000 on host host-1 is already used by database other (nodes[0].port)' },
    ]);
    expect(foreignPortIssues(db([{ name: 'n1', host_ids: ['host-2'] }], { patroni_port: 28008 }), [other], reserved)).toEqual([
      { path: 'patroni_port', message: 'port 28008 on host host-2 is already used by database other (nodes[1].patroni_port)' },
    ]);
  });

  it('refuses the control plane\'s own ports on any host', () => {
    expect(foreignPortIssues(db([{ name: 'n1', host_ids: ['host-3'], port: 7432 }, { name: 'n2', host_ids: ['host-3'], patroni_port: 2379 }]), [], reserved)).toEqual([
      { path: 'nodes[0].port', message: "port 7432 is the control plane's own (store Postgres)" },
      { path: 'nodes[1].patroni_port', message: "port 2379 is the control plane's own (etcd client)" },
    ]);
  });

  it('accepts the same port on another host, and port 0 (any free port) anywhere', () => {
    expect(foreignPortIssues(db([{ name: 'n1', host_ids: ['host-2'], port: 21000 }]), [other], reserved)).toEqual([]);
    expect(foreignPortIssues(db([{ name: 'n1', host_ids: ['host-1'], port: 0 }]), [other, { id: 'x', spec: db([{ name: 'n1', host_ids: ['host-1'], port: 0 }]) }], reserved)).toEqual([]);
  });
});
