// Instance addresses on one Docker engine (container names on the database network) and across engines (host
// address + published ports), as replication DSNs and Patroni's connect_address use them.
import { describe, expect, it } from 'vitest';
import { memberConnectAddress, nodePostgresEndpoints, peerAddress, sameEngine, type Topology } from '../../activities/addresses.js';
import { nodeDsn } from '../../activities/postgres/sql.js';
import { planInstances } from '../../workflows/model/instances.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

const spec = (ports: { port?: number; patroni_port?: number } = { port: 6432, patroni_port: 8432 }) => ({
  database_name: 'app',
  nodes: [
    { name: 'n1', host_ids: ['host-1', 'host-2'], ...ports },
    { name: 'n2', host_ids: ['host-3'], ...(ports.port ? { port: ports.port + 1 } : {}) },
  ],
}) as unknown as DatabaseSpec;

const hosts = (engines: (string | null)[]): Topology =>
  new Map(engines.map((engine, i) => [`host-${i + 1}`, { address: `10.231.0.${11 + i}`, engine }]));

describe('one Docker engine', () => {
  const topology = hosts(['e1', 'e1', 'e1']);
  const instances = planInstances('shop', spec());

  it('instances meet by container name and inner ports', () => {
    expect(nodePostgresEndpoints(topology, instances, 'n1')).toEqual({ hosts: ['shop-n1-689qacsi', 'shop-n1-9ptayhma'], ports: [5432, 5432] });
    expect(memberConnectAddress(topology, instances, instances[1]!)).toEqual({ postgres: 'shop-n1-9ptayhma:5432', restapi: 'shop-n1-9ptayhma:8008' });
  });

  it('a host that has not reported its engine yet is taken to share it (no port needed)', () => {
    const unknown = hosts(['e1', null, 'e1']);
    const unpublished = planInstances('shop', spec({}));
    expect(nodePostgresEndpoints(unknown, unpublished, 'n1').ports).toEqual([5432, 5432]);
    expect(sameEngine(unknown, ['host-1', 'host-2', 'host-3'])).toBe(true);
  });
});

describe('separate Docker engines', () => {
  const topology = hosts(['e1', 'e2', 'e3']);
  const instances = planInstances('shop', spec());

  it('replication DSNs name each host address with the node port', () => {
    const n1 = nodePostgresEndpoints(topology, instances, 'n1');
    expect(n1).toEqual({ hosts: ['10.231.0.11', '10.231.0.12'], ports: [6432, 6432] });
    expect(nodeDsn({ ...n1, database: 'app', user: 'postgres', passfile: '/p' })).toContain("host='10.231.0.11,10.231.0.12' port='6432,6432'");
    expect(nodePostgresEndpoints(topology, instances, 'n2')).toEqual({ hosts: ['10.231.0.13'], ports: [6433] });
  });

  it("Patroni's connect_address of a member is its host address with the published ports", () => {
    expect(memberConnectAddress(topology, instances, instances[1]!)).toEqual({ postgres: '10.231.0.12:6432', restapi: '10.231.0.12:8432' });
  });

  it('a node alone on its engine keeps container names for its members, host addresses for other nodes', () => {
    const n2 = instances.find((i) => i.nodeName === 'n2')!;
    expect(memberConnectAddress(topology, instances, n2)).toEqual({ postgres: `${n2.instanceId}:5432`, restapi: `${n2.instanceId}:8008` });
    expect(peerAddress(topology, ['host-1', 'host-2'], n2)).toMatchObject({ host: '10.231.0.13', postgresPort: 6433, via: 'published' });
  });

  it('two hosts on one engine, a third elsewhere: the DSN crosses engines, so it uses published ports', () => {
    const mixed = hosts(['e1', 'e1', 'e3']);
    expect(memberConnectAddress(mixed, instances, instances[1]!).postgres).toBe('shop-n1-9ptayhma:5432');
    expect(nodePostgresEndpoints(mixed, instances, 'n1').hosts).toEqual(['10.231.0.11', '10.231.0.12']);
  });

  it('refuses, naming the node and the field, when a port to cross engines is not published', () => {
    const noPorts = planInstances('shop', spec({}));
    expect(() => nodePostgresEndpoints(topology, noPorts, 'n1')).toThrow(/node n1: .* set the node's port/);
    const noPatroni = planInstances('shop', spec({ port: 6432 }));
    expect(() => memberConnectAddress(topology, noPatroni, noPatroni[0]!)).toThrow(/node n1: .* set the node's patroni_port/);
  });
});
