import { describe, expect, it } from 'vitest';
import { labels } from '../../activities/docker/client.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { inContainer, instanceHostFiles } from '../../activities/docker/instance-files.js';
import { instanceContainerOptions, instanceOptions, type InstanceContainerInput } from '../../activities/docker/instance-spec.js';
import { planInstances } from '../../workflows/model/instances.js';

const input = (patch: Partial<InstanceContainerInput> = {}): InstanceContainerInput => ({
  instanceId: 'shop-n1-689qacsi',
  databaseId: 'shop',
  nodeName: 'n1',
  hostId: 'host-1',
  namespace: 'default',
  image: 'pgcp/postgres:17',
  network: 'pgcp-shop',
  volume: 'shop-n1-689qacsi-data',
  hostAddress: '127.0.0.1',
  port: 5432,
  patroniPort: 8008,
  nanoCpus: null,
  memoryBytes: null,
  ...patch,
});
const hashOf = (patch: Partial<InstanceContainerInput> = {}) => instanceContainerOptions(input(patch)).Labels![labels.specHash];

describe('instanceContainerOptions', () => {
  it('runs an init process and restarts unless stopped', () => {
    const o = instanceContainerOptions(input());
    expect(o.HostConfig?.Init).toBe(true);
    expect(o.HostConfig?.RestartPolicy).toEqual({ Name: 'unless-stopped' });
  });

  it('publishes Postgres and Patroni on the host address', () => {
    expect(instanceContainerOptions(input()).HostConfig?.PortBindings).toEqual({
      '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: '5432' }],
      '8008/tcp': [{ HostIp: '127.0.0.1', HostPort: '8008' }],
    });
  });

  it('asks Docker for a free port when the port is 0', () => {
    const o = instanceContainerOptions(input({ port: 0 }));
    expect(o.HostConfig?.PortBindings).toMatchObject({ '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });

  it('publishes nothing when the ports are null', () => {
    expect(instanceContainerOptions(input({ port: null, patroniPort: null })).HostConfig?.PortBindings).toEqual({});
  });

  it('mounts the data volume, keeps the secret files on tmpfs (no host file), and joins the database network under its name', () => {
    const o = instanceContainerOptions(input());
    expect(o.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'shop-n1-689qacsi-data', Target: '/var/lib/postgresql/data' }]);
    expect(o.HostConfig?.Binds).toBeUndefined();
    expect(Object.keys(o.HostConfig?.Tmpfs ?? {}).sort()).toEqual(['/etc/pgcp', '/run/pgcp']);
    expect(o.HostConfig?.Tmpfs?.['/run/pgcp']).toMatch(/mode=0700/);
    expect(o.Cmd?.[2]).toContain(`patroni ${inContainer.patroniConfig}`);
    expect(o.HostConfig?.NetworkMode).toBe('pgcp-shop');
    expect(o.NetworkingConfig?.EndpointsConfig?.['pgcp-shop']?.Aliases).toEqual(['shop-n1-689qacsi']);
    expect(o.name).toBe('shop-n1-689qacsi');
  });

  it('sets CPU and memory limits only when given', () => {
    const limited = instanceContainerOptions(input({ nanoCpus: 5e8, memoryBytes: 2 ** 30 })).HostConfig!;
    expect(limited).toMatchObject({ NanoCpus: 5e8, Memory: 2 ** 30 });
    const free = instanceContainerOptions(input()).HostConfig!;
    expect(free).not.toHaveProperty('NanoCpus');
    expect(free).not.toHaveProperty('Memory');
  });

  it('labels the container with its database, instance, node, host and namespace', () => {
    expect(instanceContainerOptions(input({ namespace: 'test-ns' })).Labels).toMatchObject({
      [labels.managed]: 'true',
      [labels.purpose]: 'instance',
      [labels.databaseId]: 'shop',
      [labels.instanceId]: 'shop-n1-689qacsi',
      [labels.nodeName]: 'n1',
      [labels.hostId]: 'host-1',
      [labels.namespace]: 'test-ns',
      [labels.specHash]: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });
});

describe('the spec hash', () => {
  it('is stable for the same input', () => {
    expect(hashOf()).toBe(hashOf());
  });

  it('changes when the image changes', () => {
    expect(hashOf({ image: 'pgcp/postgres:17.1' })).not.toBe(hashOf());
  });

  it('changes when the published port changes', () => {
    expect(hashOf({ port: 5433 })).not.toBe(hashOf());
    expect(hashOf({ patroniPort: 9008 })).not.toBe(hashOf());
  });

  it('changes when the resource limits change', () => {
    expect(hashOf({ memoryBytes: 2 ** 30 })).not.toBe(hashOf());
  });

  it('does not change with labels only (namespace)', () => {
    expect(hashOf({ namespace: 'other' })).toBe(hashOf());
  });
});

describe('the spec hash of existing containers', () => {
  // A refactor that changes the options of an unchanged spec would recreate every instance at the next update.
  // (Changed on purpose once: the secrets moved from host files to tmpfs, which needs new containers.)
  it('is the same as the one running containers carry', () => {
    expect(hashOf()).toBe('2b8379d48a94635c');
    const backup = { mounts: [{ Type: 'bind' as const, Source: '/backups', Target: '/backups', ReadOnly: false }] };
    expect(hashOf({ backup })).toBe('18b621ba307a242e');
  });
});

describe('instanceOptions', () => {
  const files = instanceHostFiles('/data/host-1', 'shop-n1-689qacsi');
  const base: DatabaseSpec = { database_name: 'shop', postgres_version: '17', port: 5432, nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;
  const options = (spec: DatabaseSpec) => {
    const plan = planInstances('shop', spec)[0]!;
    return instanceOptions({ spec, plan, namespace: 'default', image: 'pgcp/postgres:17', files, host: { hostAddress: '127.0.0.1', containerExtraHosts: [] } });
  };

  it('names the container, volume and network after the plan, and mounts no file of the instance directory', () => {
    const o = options(base);
    expect(o.name).toBe('shop-n1-689qacsi');
    expect(o.HostConfig?.NetworkMode).toBe('pgcp-shop');
    expect(o.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'shop-n1-689qacsi-data', Target: inContainer.volume }]);
    expect(o.HostConfig?.Binds).toBeUndefined();
  });

  it('mounts the repository (not pgBackRest\'s configuration: delivered into the tmpfs) when the node has backups', () => {
    const o = options({ ...base, backup_config: { repositories: [{ type: 'posix', base_path: '/backups' }] } } as DatabaseSpec);
    expect(o.HostConfig?.Binds).toBeUndefined();
    // the database's own directory of the repository, never base_path itself (other databases' backups are there)
    expect(o.HostConfig?.Mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: '/backups/databases/shop', Target: '/backups/databases/shop', ReadOnly: false }));
    expect(o.HostConfig?.Mounts?.some((m) => m.Source === '/backups')).toBe(false);
  });

  it('mounts the source repository for a database created from a backup', () => {
    const restore_config = { source_database_id: 'old', source_node_name: 'n1', source_database_name: 'shop', repository: { type: 'posix', base_path: '/backups' } };
    const o = options({ ...base, restore_config } as DatabaseSpec);
    expect(o.HostConfig?.Mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: '/backups/databases/old/n1', Target: '/backups/databases/old/n1', ReadOnly: true }));
    expect(o.HostConfig?.Binds).toBeUndefined();
  });

  it('turns the spec\'s cpus and memory into Docker limits, and a changed memory into another spec hash', () => {
    const o = options({ ...base, cpus: '0.5', memory: '1GiB' } as DatabaseSpec);
    expect(o.HostConfig).toMatchObject({ NanoCpus: 5e8, Memory: 2 ** 30 });
    const other = options({ ...base, cpus: '0.5', memory: '2GiB' } as DatabaseSpec);
    expect(other.Labels![labels.specHash]).not.toBe(o.Labels![labels.specHash]);
  });
});

describe('instanceHostFiles', () => {
  it('keeps every host file of an instance in its own directory under the data directory', () => {
    const f = instanceHostFiles('/data/host-1', 'shop-n1-689qacsi');
    expect(f).toEqual({
      dir: '/data/host-1/instances/shop-n1-689qacsi',
      legacy: ['patroni.yml', 'pgbackrest.conf', 'pgbackrest-restore.conf', 'pgbackrest-restore-source.conf', 'pgbackrest-restore-check.conf']
        .map((f) => `/data/host-1/instances/shop-n1-689qacsi/${f}`),
      caDir: '/data/host-1/instances/shop-n1-689qacsi/ca',
    });
  });
});
