import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { effectiveConf, effectiveLines, nodeVersion, planInstances } from '../../workflows/model/instances.js';
import { parseCpus, parseMemory } from '../../workflows/model/resources.js';

const spec: DatabaseSpec = {
  database_name: 'app',
  postgres_version: '17.6',
  port: 5432,
  patroni_port: 8008,
  cpus: '1',
  memory: '1GiB',
  postgresql_conf: { work_mem: '4MB', max_connections: 100 },
  pg_hba_conf: ['host all all 10.0.0.0/8 scram-sha-256'],
  pg_ident_conf: ['db alice app'],
  nodes: [
    { name: 'n1', host_ids: ['host-1', 'host-2'] },
    { name: 'n2', host_ids: ['host-3'], port: 6432, patroni_port: 9008, cpus: '500m', memory: '2GiB', postgres_version: '16.10',
      postgresql_conf: { work_mem: '64MB' }, pg_hba_conf: ['host all all 192.168.0.0/16 md5'], pg_ident_conf: ['node bob app'] },
  ],
};

describe('planInstances', () => {
  const plans = planInstances('shop', spec);

  it('makes one instance per node and host, the first host as primary', () => {
    expect(plans.map((p) => [p.instanceId, p.nodeName, p.hostId, p.initialRole])).toEqual([
      ['shop-n1-689qacsi', 'n1', 'host-1', 'primary'],
      ['shop-n1-9ptayhma', 'n1', 'host-2', 'replica'],
      ['shop-n2-ant97dj4', 'n2', 'host-3', 'primary'],
    ]);
  });

  it('inherits database-level settings when the node sets none', () => {
    expect(plans[0]).toMatchObject({ databaseId: 'shop', postgresMajor: '17', port: 5432, patroniPort: 8008, cpus: '1', memory: '1GiB' });
  });

  it('lets node-level settings replace database-level ones', () => {
    expect(plans[2]).toMatchObject({ postgresMajor: '16', port: 6432, patroniPort: 9008, cpus: '500m', memory: '2GiB' });
  });

  it('leaves ports and resources null when nothing sets them', () => {
    const [p] = planInstances('shop', { database_name: 'app', postgres_version: '17.6', nodes: [{ name: 'n1', host_ids: ['host-1'] }] });
    expect(p).toMatchObject({ port: null, patroniPort: null, cpus: null, memory: null });
  });

  it('a node version wins over the database version', () => {
    expect(nodeVersion(spec, 'n2')).toBe('16.10');
    expect(nodeVersion(spec, 'n1')).toBe('17.6');
  });
});

describe('effective node configuration', () => {
  it('node postgresql_conf keys override database keys, others are kept', () => {
    expect(effectiveConf(spec, 'n2')).toEqual({ work_mem: '64MB', max_connections: 100 });
    expect(effectiveConf(spec, 'n1')).toEqual({ work_mem: '4MB', max_connections: 100 });
  });

  it('node pg_hba / pg_ident lines come before database lines', () => {
    expect(effectiveLines(spec, 'n2', 'pg_hba_conf')).toEqual(['host all all 192.168.0.0/16 md5', 'host all all 10.0.0.0/8 scram-sha-256']);
    expect(effectiveLines(spec, 'n2', 'pg_ident_conf')).toEqual(['node bob app', 'db alice app']);
    expect(effectiveLines(spec, 'n1', 'pg_hba_conf')).toEqual(['host all all 10.0.0.0/8 scram-sha-256']);
  });
});

describe('parseCpus', () => {
  it.each([
    ['2', 2e9],
    ['0.5', 5e8],
    ['500m', 5e8],
    ['1m', 1e6],
    ['1.25', 1.25e9],
    ['0.001', 1e6],
  ])('%s is %d nano-CPUs', (s, n) => {
    expect(parseCpus(s)).toBe(n);
  });

  it.each(['', 'two', '-1', '1.5m', '0.0001', '2 ', '1e3'])('%j is not a CPU amount', (s) => {
    expect(parseCpus(s)).toBeNull();
  });
});

describe('parseMemory', () => {
  it.each([
    ['16GiB', 16 * 1024 ** 3],
    ['512M', 512e6],
    ['1.5GB', 1.5e9],
    ['512MiB', 512 * 1024 ** 2],
    ['2gi', 2 * 1024 ** 3],
    ['1024', 1024],
    [' 4 kb ', 4000],
  ])('%j is %d bytes', (s, n) => {
    expect(parseMemory(s)).toBe(n);
  });

  it.each(['', 'lots', '16 parsecs', '-1GB', '1.GB', 'GB'])('%j is not a size', (s) => {
    expect(parseMemory(s)).toBeNull();
  });
});
