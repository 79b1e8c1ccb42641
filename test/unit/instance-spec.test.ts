import { describe, expect, it } from 'vitest';
import { labels } from '../../activities/docker/client.js';
import { inContainer } from '../../activities/docker/instance-files.js';
import { instanceContainerOptions, type InstanceContainerInput } from '../../activities/docker/instance-spec.js';

const input = (patch: Partial<InstanceContainerInput> = {}): InstanceContainerInput => ({
  instanceId: 'shop-n1-689qacsi',
  databaseId: 'shop',
  nodeName: 'n1',
  hostId: 'host-1',
  namespace: 'default',
  image: 'pgcp/postgres:17',
  network: 'pgcp-shop',
  volume: 'shop-n1-689qacsi-data',
  configPath: '/data/host-1/shop-n1-689qacsi/patroni.yml',
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

  it('mounts the data volume, the Patroni config read-only, and joins the database network under its name', () => {
    const o = instanceContainerOptions(input());
    expect(o.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'shop-n1-689qacsi-data', Target: '/var/lib/postgresql/data' }]);
    expect(o.HostConfig?.Binds).toEqual([`/data/host-1/shop-n1-689qacsi/patroni.yml:${inContainer.patroniConfig}:ro`]);
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
