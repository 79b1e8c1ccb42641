import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { hostHash } from '../../workflows/model/ids.js';
import { describeStep, planConverge, planLines, planRemoveAll, type Step } from '../../workflows/model/planner.js';

const spec = (nodes: DatabaseSpec['nodes']): DatabaseSpec => ({ database_name: 'app', postgres_version: '17.6', nodes });
const kinds = (wave: Step[]) => [...new Set(wave.map((s) => s.kind))];
const threeNodes = spec([
  { name: 'n1', host_ids: ['host-1'] },
  { name: 'n2', host_ids: ['host-2'] },
  { name: 'n3', host_ids: ['host-3'] },
]);

describe('planConverge for one node', () => {
  const plan = planConverge('shop', spec([{ name: 'n1', host_ids: ['host-1'] }]));

  it('creates the network, the instance, waits for it, creates the database and records the node — nothing else', () => {
    expect(plan.waves).toEqual([
      [{ kind: 'network', hostId: 'host-1' }],
      [{ kind: 'instance', hostId: 'host-1', instanceId: `shop-n1-${hostHash('host-1')}`, nodeName: 'n1' }],
      [{ kind: 'waitInstance', hostId: 'host-1', instanceId: `shop-n1-${hostHash('host-1')}`, nodeName: 'n1' }],
      [{ kind: 'nodeDatabase', hostId: 'host-1', nodeName: 'n1' }],
      [{ kind: 'markJoined', nodeNames: ['n1'] }],
    ]);
  });

  it('has no subscription or replication wait', () => {
    const all = plan.waves.flat().map((s) => s.kind);
    expect(all).not.toContain('subscription');
    expect(all).not.toContain('waitReplication');
  });
});

describe('planConverge for three nodes', () => {
  const plan = planConverge('shop', threeNodes);

  it('runs the phases in order: network, instances, waits, databases, subscriptions, replication waits', () => {
    expect(plan.waves.map(kinds)).toEqual([['network'], ['network'], ['network'], ['instance'], ['waitInstance'], ['nodeDatabase'], ['subscription'], ['waitReplication'], ['markJoined']]);
  });

  it('creates one network per host, first, one host after the other (hosts may share a Docker engine)', () => {
    expect(plan.waves.slice(0, 3)).toEqual(['host-1', 'host-2', 'host-3'].map((hostId) => [{ kind: 'network', hostId }]));
  });

  it('creates one database per node on the node host', () => {
    expect(plan.waves[5]).toEqual([
      { kind: 'nodeDatabase', hostId: 'host-1', nodeName: 'n1' },
      { kind: 'nodeDatabase', hostId: 'host-2', nodeName: 'n2' },
      { kind: 'nodeDatabase', hostId: 'host-3', nodeName: 'n3' },
    ]);
  });

  it('subscribes every node to every other (n*(n-1)), each on the subscriber host', () => {
    const subs = plan.waves[6]!.filter((s): s is Extract<Step, { kind: 'subscription' }> => s.kind === 'subscription');
    expect(subs).toHaveLength(6);
    expect(subs.map((s) => s.name).sort()).toEqual(['sub_n1n2', 'sub_n1n3', 'sub_n2n1', 'sub_n2n3', 'sub_n3n1', 'sub_n3n2']);
    const hostOfNode: Record<string, string> = { n1: 'host-1', n2: 'host-2', n3: 'host-3' };
    for (const s of subs) {
      expect(s.subscriber).not.toBe(s.provider);
      expect(s.name).toBe(`sub_${s.subscriber}${s.provider}`);
      expect(s.hostId).toBe(hostOfNode[s.subscriber]);
    }
  });

  it('waits for each node to replicate through its own subscriptions', () => {
    expect(plan.waves[7]).toContainEqual({ kind: 'waitReplication', hostId: 'host-2', nodeName: 'n2', subscriptions: ['sub_n2n1', 'sub_n2n3'] });
    expect(plan.waves[7]).toHaveLength(3);
  });
});

describe('planConverge with replicas', () => {
  const plan = planConverge('shop', spec([
    { name: 'n1', host_ids: ['host-1', 'host-2'] },
    { name: 'n2', host_ids: ['host-3'] },
  ]));
  const flat = plan.waves.flatMap((w, i) => w.map((s) => ({ ...s, wave: i })));
  const waveOf = (kind: Step['kind'], hostId: string) => flat.find((s) => s.kind === kind && 'hostId' in s && s.hostId === hostId)!.wave;

  it('creates replicas only after every primary is running', () => {
    const lastPrimaryWait = Math.max(waveOf('waitInstance', 'host-1'), waveOf('waitInstance', 'host-3'));
    expect(waveOf('instance', 'host-2')).toBeGreaterThan(lastPrimaryWait);
    expect(waveOf('waitInstance', 'host-2')).toBeGreaterThan(waveOf('instance', 'host-2'));
  });

  it('runs node steps on the host of the node first instance', () => {
    expect(flat.filter((s) => s.kind === 'nodeDatabase').map((s) => ('hostId' in s ? s.hostId : ''))).toEqual(['host-1', 'host-3']);
  });

  it('creates a network on each of the three hosts, one at a time', () => {
    expect(plan.waves.slice(0, 3).map((w) => w.map((s) => `${s.kind}@${'hostId' in s ? s.hostId : ''}`))).toEqual([['network@host-1'], ['network@host-2'], ['network@host-3']]);
  });

  it('creates the databases after the replicas are running', () => {
    expect(waveOf('nodeDatabase', 'host-1')).toBeGreaterThan(waveOf('waitInstance', 'host-2'));
  });
});

describe('planRemoveAll', () => {
  it('removes every instance, then one network per host', () => {
    const plan = planRemoveAll([
      { instanceId: 'a', hostId: 'host-1', nodeName: 'n1' },
      { instanceId: 'b', hostId: 'host-2', nodeName: 'n1' },
      { instanceId: 'c', hostId: 'host-1', nodeName: 'n2' },
    ]);
    expect(plan.waves.map(kinds)).toEqual([['removeInstance'], ['removeNetwork']]);
    expect(plan.waves[0]).toHaveLength(3);
    expect(plan.waves[1]).toEqual([{ kind: 'removeNetwork', hostId: 'host-1' }, { kind: 'removeNetwork', hostId: 'host-2' }]);
  });

  it('is empty when nothing exists', () => {
    expect(planRemoveAll([]).waves).toEqual([]);
  });
});

describe('plan text', () => {
  it('summarises the step and phase counts, then one line per phase', () => {
    const lines = planLines(planConverge('shop', threeNodes));
    expect(lines[0]).toBe('plan: 22 steps in 9 phases');
    expect(lines).toHaveLength(10);
    expect(lines.slice(1, 3)).toEqual(['phase 1: creating the database network on host-1', 'phase 2: creating the database network on host-2']);
  });

  it('describes each step kind', () => {
    expect(describeStep({ kind: 'instance', hostId: 'host-1', instanceId: 'shop-n1-x', nodeName: 'n1' })).toBe('creating instance shop-n1-x (node n1) on host-1');
    expect(describeStep({ kind: 'waitInstance', hostId: 'host-1', instanceId: 'shop-n1-x', nodeName: 'n1' })).toBe('waiting for instance shop-n1-x to run Postgres');
    expect(describeStep({ kind: 'nodeDatabase', hostId: 'host-1', nodeName: 'n1' })).toBe('creating database, users and replication node on node n1');
    expect(describeStep({ kind: 'subscription', hostId: 'host-1', subscriber: 'n1', provider: 'n2', name: 'sub_n1n2' })).toBe('subscribing node n1 to node n2 (sub_n1n2)');
    expect(describeStep({ kind: 'waitReplication', hostId: 'host-1', nodeName: 'n1', subscriptions: ['sub_n1n2', 'sub_n1n3'] }))
      .toBe('waiting for node n1 to replicate from its peers (sub_n1n2, sub_n1n3)');
    expect(describeStep({ kind: 'removeInstance', hostId: 'host-2', instanceId: 'i', nodeName: 'n1' })).toBe('removing instance i and its data on host-2');
    expect(describeStep({ kind: 'removeNetwork', hostId: 'host-2' })).toBe('removing the database network on host-2');
  });
});
