import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { ids } from '../../workflows/model/ids.js';
import { planConverge, type Step } from '../../workflows/model/planner.js';
import { planUpdate, type CurrentLayout } from '../../workflows/model/update-planner.js';

const node = (name: string, extra: Partial<DatabaseSpec['nodes'][number]> = {}) => ({ name, host_ids: ['host-1'], ...extra });
const spec = (...nodes: DatabaseSpec['nodes']): DatabaseSpec => ({ database_name: 'app', postgres_version: '15.20', nodes });
const layout = (joined: string[]): CurrentLayout => ({
  joined,
  instances: joined.map((n) => ({ instanceId: ids.instance('shop', n, 'host-1'), hostId: 'host-1', nodeName: n })),
});
const flat = (waves: Step[][]) => waves.flatMap((w, i) => w.map((s) => ({ ...s, wave: i })));

describe('planUpdate', () => {
  it('plans from scratch when no node has finished joining (a failed create redone)', () => {
    const s = spec(node('n1'), node('n2'));
    expect(planUpdate('shop', { joined: [], instances: [] }, s)).toEqual(planConverge('shop', s));
  });

  it('runs the creation scripts only when a database is created: never on existing nodes, never on a node added later', () => {
    const scripts = { post_init: ['CREATE ROLE r'], post_database_create: ['CREATE TABLE t (id int PRIMARY KEY)'] };
    const created = planConverge('shop', { ...spec(node('n1'), node('n2')), scripts }).waves.flat().filter((s) => s.kind === 'nodeDatabase');
    expect(created.map((s) => [s.nodeName, 'scripts' in s && s.scripts])).toEqual([['n1', true], ['n2', true]]);
    const added = flat(planUpdate('shop', layout(['n1', 'n2']), { ...spec(node('n1'), node('n2'), node('n3')), scripts }).waves);
    const withScripts = added.filter((s) => 'scripts' in s && s.scripts);
    expect(added.some((s) => s.kind === 'joinNode')).toBe(true);
    expect(withScripts).toEqual([]);
    expect(planConverge('shop', spec(node('n1'))).waves.flat().some((s) => 'scripts' in s)).toBe(false);
  });

  it('with the same spec converges existing nodes only: no join, no removal', () => {
    const kinds = flat(planUpdate('shop', layout(['n1', 'n2']), spec(node('n1'), node('n2'))).waves).map((s) => s.kind);
    expect(kinds).not.toContain('joinNode');
    expect(kinds).not.toContain('removeNode');
    expect(kinds).toEqual(expect.arrayContaining(['checkUsers', 'applyConfig', 'nodeDatabase', 'subscription', 'waitReplication']));
  });

  it('adds a replica for a host added to a node and removes the replica of a host dropped, after the new ones run', () => {
    const current: CurrentLayout = {
      joined: ['n1', 'n2'],
      instances: [
        { instanceId: ids.instance('shop', 'n1', 'host-1'), hostId: 'host-1', nodeName: 'n1' },
        { instanceId: ids.instance('shop', 'n1', 'host-2'), hostId: 'host-2', nodeName: 'n1' },
        { instanceId: ids.instance('shop', 'n2', 'host-1'), hostId: 'host-1', nodeName: 'n2' },
      ],
    };
    const steps = flat(planUpdate('shop', current, spec(node('n1', { host_ids: ['host-2', 'host-3'] }), node('n2'))).waves);
    const at = (kind: Step['kind'], instanceId: string) => steps.find((s) => s.kind === kind && 'instanceId' in s && s.instanceId === instanceId)?.wave;
    const added = ids.instance('shop', 'n1', 'host-3');
    const dropped = ids.instance('shop', 'n1', 'host-1');
    const roll = steps.find((s) => s.kind === 'rollNode' && s.nodeName === 'n1') as Extract<Step, { kind: 'rollNode' }> & { wave: number };
    expect(roll).toMatchObject({ hostId: 'host-2', existing: [{ instanceId: ids.instance('shop', 'n1', 'host-2') }], added: [{ instanceId: added, hostId: 'host-3' }] });
    expect(at('removeReplica', dropped)).toBeGreaterThan(roll.wave);
    expect(steps.some((s) => s.kind === 'removeNode' || s.kind === 'joinNode')).toBe(false);
    // a gone host's dropped replica is only forgotten
    const gone = flat(planUpdate('shop', current, spec(node('n1', { host_ids: ['host-2', 'host-3'] }), node('n2')), ['host-1']).waves);
    expect(gone.find((s) => s.kind === 'removeReplica')).toMatchObject({ instanceId: dropped, gone: true });
    // a service instance on a gone host is only forgotten; one on a host that answers is removed there
    const withService = { ...current, serviceInstances: [{ serviceId: 'mcp', hostId: 'host-1' }] };
    const svcGone = flat(planUpdate('shop', withService, spec(node('n1', { host_ids: ['host-2', 'host-3'] }), node('n2')), ['host-1']).waves);
    expect(svcGone.find((s) => s.kind === 'removeService')).toMatchObject({ serviceId: 'mcp', hostId: 'host-1', gone: true });
    const svcThere = flat(planUpdate('shop', withService, spec(node('n1', { host_ids: ['host-2', 'host-3'] }), node('n2'))).waves);
    expect((svcThere.find((s) => s.kind === 'removeService') as { gone?: boolean } | undefined)?.gone).toBeUndefined();
    // the node with replicas gets its slots made permanent at the end
    expect(steps.filter((s) => s.kind === 'protectSlots').map((s) => 'nodeName' in s && s.nodeName)).toEqual(['n1']);
  });

  it('converges running nodes one after the other, each as one rollNode step with the instances that ran before', () => {
    const current: CurrentLayout = {
      joined: ['n1', 'n2'],
      instances: [
        { instanceId: ids.instance('shop', 'n1', 'host-1'), hostId: 'host-1', nodeName: 'n1' },
        { instanceId: ids.instance('shop', 'n1', 'host-2'), hostId: 'host-2', nodeName: 'n1' },
        { instanceId: ids.instance('shop', 'n2', 'host-2'), hostId: 'host-2', nodeName: 'n2' },
      ],
    };
    const desired = spec(node('n1', { host_ids: ['host-1', 'host-2'], port: 7000, memory: '1GiB' }), node('n2', { host_ids: ['host-2'] }));
    const plan = planUpdate('shop', current, desired);
    const rolls = plan.waves.filter((w) => w.some((s) => s.kind === 'rollNode'));
    // one node per phase, in spec order; nothing else in those phases
    expect(rolls.map((w) => w.map((s) => s.kind === 'rollNode' && s.nodeName))).toEqual([['n1'], ['n2']]);
    expect(rolls[0]![0]).toEqual({ kind: 'rollNode', hostId: 'host-1', nodeName: 'n1', existing: current.instances.slice(0, 2), added: [] });
    // no instance is touched outside its node's roll, and the configuration follows the rolls
    const steps = flat(plan.waves);
    expect(steps.some((s) => s.kind === 'instance' || s.kind === 'waitInstance')).toBe(false);
    expect(Math.min(...steps.filter((s) => s.kind === 'applyConfig').map((s) => s.wave))).toBeGreaterThan(Math.max(...steps.filter((s) => s.kind === 'rollNode').map((s) => s.wave)));
    // histories recorded before rolling updates replay with the old shape
    const old = flat(planUpdate('shop', current, desired, [], { rolling: false }).waves);
    expect(old.some((s) => s.kind === 'rollNode')).toBe(false);
    expect(old.filter((s) => s.kind === 'instance')).toHaveLength(3);
  });

  it('adds a node from the first node by default, slots first on the others, then the others subscribe to it', () => {
    const steps = flat(planUpdate('shop', layout(['n1', 'n2', 'n3']), spec(node('n1'), node('n2'), node('n3'), node('n4'))).waves);
    const join = steps.find((s) => s.kind === 'joinNode') as Extract<Step, { kind: 'joinNode' }> & { wave: number };
    expect(join.source.name).toBe('n1');
    expect(join.peers.map((p) => p.name)).toEqual(['n2', 'n3']);
    const order = (kind: Step['kind'], pred: (s: Step) => boolean = () => true) => steps.find((s) => s.kind === kind && pred(s))!.wave;
    expect(order('resetNode')).toBeLessThan(order('instance', (s) => 'nodeName' in s && s.nodeName === 'n4'));
    expect(order('nodeDatabase', (s) => 'joining' in s && !!s.joining)).toBeLessThan(join.wave);
    expect(order('subscription', (s) => s.kind === 'subscription' && s.provider === 'n4')).toBeGreaterThan(join.wave);
    expect(order('markJoined')).toBeGreaterThan(join.wave);
    // existing nodes converge before anything joins
    expect(order('applyConfig')).toBeLessThan(order('resetNode'));
  });

  it('honours source_node, and joins several new nodes one after the other, each seeing the previous one', () => {
    const steps = flat(planUpdate('shop', layout(['n1', 'n2']), spec(node('n1'), node('n2'), node('n3', { source_node: 'n2' }), node('n4'))).waves);
    const joins = steps.filter((s) => s.kind === 'joinNode') as (Extract<Step, { kind: 'joinNode' }> & { wave: number })[];
    expect(joins.map((j) => [j.nodeName, j.source.name, j.peers.map((p) => p.name)])).toEqual([['n3', 'n2', ['n1']], ['n4', 'n1', ['n2', 'n3']]]);
    expect(joins[1]!.wave).toBeGreaterThan(joins[0]!.wave);
  });

  it('removes a node before any join (a joining node would not hear what it still writes), unlinking it from the others', () => {
    const steps = flat(planUpdate('shop', layout(['n1', 'n2', 'n3']), spec(node('n1'), node('n3'), node('n4'))).waves);
    const removal = steps.find((s) => s.kind === 'removeNode') as Extract<Step, { kind: 'removeNode' }> & { wave: number };
    expect(removal.nodeName).toBe('n2');
    expect(removal.instances.map((i) => i.instanceId)).toEqual([ids.instance('shop', 'n2', 'host-1')]);
    expect(removal.remaining.map((r) => r.name)).toEqual(['n1', 'n3']);
    const join = steps.find((s) => s.kind === 'joinNode') as Extract<Step, { kind: 'joinNode' }> & { wave: number };
    expect(removal.wave).toBeLessThan(join.wave);
    expect(join.peers.map((p) => p.name)).toEqual(['n3']);
    // no subscription to the removed node is ensured again
    expect(steps.some((s) => s.kind === 'subscription' && (s.provider === 'n2' || s.subscriber === 'n2'))).toBe(false);
  });

  it('also removes a node whose join never finished when it leaves the spec (its slots must not stay behind)', () => {
    const current = layout(['n1', 'n2']);
    current.instances.push({ instanceId: ids.instance('shop', 'n3', 'host-1'), hostId: 'host-1', nodeName: 'n3' });
    const removal = flat(planUpdate('shop', current, spec(node('n1'), node('n2'))).waves).find((s) => s.kind === 'removeNode') as Extract<Step, { kind: 'removeNode' }>;
    expect(removal.nodeName).toBe('n3');
    expect(removal.remaining.map((r) => r.name)).toEqual(['n1', 'n2']);
  });
});

describe('planUpdate with remove_host', () => {
  const twoHosts = (): CurrentLayout => ({
    joined: ['n1', 'n2', 'n3'],
    instances: [
      { instanceId: ids.instance('shop', 'n1', 'host-1'), hostId: 'host-1', nodeName: 'n1' },
      { instanceId: ids.instance('shop', 'n2', 'host-1'), hostId: 'host-1', nodeName: 'n2' },
      { instanceId: ids.instance('shop', 'n3', 'host-2'), hostId: 'host-2', nodeName: 'n3' },
    ],
  });

  it('runs nothing on a gone host: its node is unlinked by the others and only forgotten', () => {
    const plan = planUpdate('shop', twoHosts(), spec(node('n1'), node('n2')), ['host-2']);
    const steps = plan.waves.flat();
    expect(steps.some((s) => 'hostId' in s && s.hostId === 'host-2')).toBe(false);
    const removal = steps.find((s) => s.kind === 'removeNode') as Extract<Step, { kind: 'removeNode' }>;
    expect(removal.instances).toEqual([]);
    expect(removal.forgotten).toEqual([ids.instance('shop', 'n3', 'host-2')]);
    expect(removal.remaining.map((r) => r.name)).toEqual(['n1', 'n2']);
  });

  it('changes nothing when no host is given', () => {
    const s = spec(node('n1'), node('n2'));
    expect(planUpdate('shop', twoHosts(), s, [])).toEqual(planUpdate('shop', twoHosts(), s));
  });

  it('a node added from a backup joins from the backup\'s node, its replicas made after its primary is restored', () => {
    const restore_config = { source_database_id: 'shop', source_node_name: 'n2', source_database_name: 'app', repository: { type: 'posix' as const, base_path: '/b' } };
    const steps = flat(planUpdate('shop', layout(['n1', 'n2']), spec(node('n1'), node('n2'), node('n3', { host_ids: ['host-1', 'host-2'], restore_config }))).waves);
    const join = steps.find((s) => s.kind === 'joinNode');
    expect(join).toMatchObject({ nodeName: 'n3', source: { name: 'n2' }, peers: [{ name: 'n1' }], fromBackup: { instanceId: ids.instance('shop', 'n3', 'host-1'), sourceDatabaseName: 'app' } });
    const replica = steps.find((s) => s.kind === 'instance' && s.instanceId === ids.instance('shop', 'n3', 'host-2'));
    expect(replica!.wave).toBeGreaterThan(join!.wave);
    const primary = steps.find((s) => s.kind === 'instance' && s.instanceId === ids.instance('shop', 'n3', 'host-1'));
    expect(primary!.wave).toBeLessThan(join!.wave);
  });
});
