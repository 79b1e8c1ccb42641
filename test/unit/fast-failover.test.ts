import { describe, expect, it } from 'vitest';
import { labels } from '../../workflows/model/ids.js';
import { instanceDeath } from '../../worker/fast-failover.js';
import { fenceDecision, pausedInstance, topPids } from '../../worker/fencing.js';
import { patroniConfig } from '../../activities/patroni/config.js';
import { cgroupDirs, parseProcs } from '../../activities/docker/cgroup.js';

const event = (action: string, attrs: Record<string, string>) => ({ Type: 'container', Action: action, timeNano: 1_700_000_000_123_000_000, Actor: { ID: 'abc', Attributes: attrs } });
const instanceLabels = { [labels.purpose]: 'instance', [labels.hostId]: 'host-1', [labels.instanceId]: 'db-n1-689qacsi' };

describe('instanceDeath', () => {
  it('names the instance of a die, oom or kill event of this host\'s instance containers', () => {
    expect(instanceDeath(event('die', instanceLabels), 'host-1')).toEqual({ instanceId: 'db-n1-689qacsi', event: 'die', at: '2023-11-14T22:13:20.123Z' });
    expect(instanceDeath(event('oom', instanceLabels), 'host-1')?.event).toBe('oom');
  });
  it('ignores other events, other hosts\' containers and containers that are not instances', () => {
    expect(instanceDeath(event('pause', instanceLabels), 'host-1')).toBeNull();
    expect(instanceDeath(event('die', instanceLabels), 'host-2')).toBeNull();
    expect(instanceDeath(event('die', { ...instanceLabels, [labels.purpose]: 'verify-image' }), 'host-1')).toBeNull();
    expect(instanceDeath({ Type: 'network', Action: 'die' }, 'host-1')).toBeNull();
  });
});

it('Patroni runs in failsafe mode: an etcd outage does not demote a primary that reaches its members', () => {
  const c = patroniConfig({ instanceId: 'i', scope: 's', etcdHosts: ['e:2379'], pgMajor: '15', superuserPassword: 'x', replicationPassword: 'y', etcdCredentials: null, restApiPassword: 'z', conf: {}, hba: [], ident: [] }) as { bootstrap: { dcs: Record<string, unknown> } };
  expect(c.bootstrap.dcs.failsafe_mode).toBe(true);
});

describe('fencing of a paused primary', () => {
  it('names the instance of a pause event of this host\'s instance containers only', () => {
    expect(pausedInstance(event('pause', instanceLabels), 'host-1')).toBe('db-n1-689qacsi');
    expect(pausedInstance(event('unpause', instanceLabels), 'host-1')).toBeNull();
    expect(pausedInstance(event('pause', instanceLabels), 'host-2')).toBeNull();
    expect(pausedInstance(event('pause', { ...instanceLabels, [labels.purpose]: 'verify-image' }), 'host-1')).toBeNull();
  });
  it('kills a paused member that led its node once another member holds the leader key, and only then', () => {
    expect(fenceDecision('a', true, 'b')).toBe('kill');
    expect(fenceDecision('a', true, 'a')).toBe('wait');
    expect(fenceDecision('a', true, null)).toBe('wait');
    expect(fenceDecision('a', false, 'b')).toBe('leave');
  });
});

describe('topPids', () => {
  it('reads the PID column of docker top, whatever its position', () => {
    expect(topPids({ Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: [['999', '4242', '1', 'postgres'], ['999', '4243', '4242', 'postgres: writer']] })).toEqual([4242, 4243]);
    expect(topPids({ Titles: ['CMD'], Processes: [['x']] })).toEqual([]);
    expect(topPids({})).toEqual([]);
  });
});

describe('a container\'s cgroup, for when Docker hangs on it', () => {
  it('reads the PIDs of cgroup.procs, 0 for a process the reader cannot see', () => {
    expect(parseProcs('13230\n14068\n')).toEqual([13230, 14068]);
    expect(parseProcs('0\n14068\n')).toEqual([0, 14068]);
    expect(parseProcs('')).toEqual([]);
  });
  it('looks in the v1 freezer and v2 unified hierarchies, for the cgroupfs and systemd drivers', () => {
    const dirs = cgroupDirs('abc');
    expect(dirs.map((d) => `${d.dir}/${d.freezeFile}=${d.thawed}`)).toEqual([
      '/sys/fs/cgroup/freezer/docker/abc/freezer.state=THAWED',
      '/sys/fs/cgroup/freezer/system.slice/docker-abc.scope/freezer.state=THAWED',
      '/sys/fs/cgroup/docker/abc/cgroup.freeze=0',
      '/sys/fs/cgroup/system.slice/docker-abc.scope/cgroup.freeze=0',
    ]);
  });
});
