import { describe, expect, it } from 'vitest';
import { heldSince, isPromotableStandby, namedStandbys, nodeHealthy, pickCandidate, slotsPatch, waitsForGoneStandby, wantedSlots } from '../../workflows/model/ha.js';

const leader = { name: 'db-n1-a', role: 'leader', state: 'running' };
const r1 = { name: 'db-n1-b', role: 'replica', state: 'streaming', lag: 1200 };
const r2 = { name: 'db-n1-c', role: 'replica', state: 'streaming', lag: 0 };

describe('pickCandidate', () => {
  it('takes the running replica with the least lag when none is asked for', () => {
    expect(pickCandidate([leader, r1, r2])).toEqual({ name: 'db-n1-c' });
    expect(pickCandidate([leader, { ...r1, lag: 'unknown' }, { ...r2, lag: 5 }])).toEqual({ name: 'db-n1-c' });
  });
  it('takes a synchronous standby before any lower-lag asynchronous replica (only it holds every acknowledged commit)', () => {
    expect(pickCandidate([leader, { ...r1, role: 'sync_standby' }, r2])).toEqual({ name: 'db-n1-b' });
  });
  it('takes the asked replica, refuses one that is not running or not a member', () => {
    expect(pickCandidate([leader, r1, r2], 'db-n1-b')).toEqual({ name: 'db-n1-b' });
    expect(pickCandidate([leader, { ...r1, state: 'stopped' }], 'db-n1-b')).toEqual({ refused: expect.stringContaining('not a running replica') });
    expect(pickCandidate([leader, r1], 'db-n1-z')).toEqual({ refused: expect.stringContaining('not a member') });
  });
  it('answers the leader itself when it is asked for (the operation is then a no-op)', () => {
    expect(pickCandidate([leader, r1], 'db-n1-a')).toEqual({ name: 'db-n1-a' });
  });
  it('refuses when no replica runs', () => {
    expect(pickCandidate([leader, { ...r1, state: 'starting' }])).toEqual({ refused: 'no running replica to take over' });
  });
});

describe('nodeHealthy', () => {
  it('is healthy with a running leader, not with a dead or missing one', () => {
    expect(nodeHealthy([leader, r1])).toBe(true);
    expect(nodeHealthy([{ ...leader, state: 'stopped' }, r1])).toBe(false);
    expect(nodeHealthy([r1, r2])).toBe(false);
  });
});

describe('permanent slots', () => {
  const slots = [
    { name: 'pgl_app_n1_sub_n2n1', database: 'app', plugin: 'pglogical_output' },
    { name: 'pgl_app_n1_sub_n3n1', database: 'app', plugin: 'pglogical_output' },
    { name: 'pgl_app_n1_sub_n9n1', database: 'app', plugin: 'pglogical_output' },
  ];
  it('keeps the slots the subscribers\' subscriptions record, a long name\'s hashed slot too; never one being dropped', () => {
    // pglogical shortens sub_n1n1000000002 (past 16 characters) to sub_n1n1 and a hash: its name does not end with it
    const long = { name: 'pgl_app_n1000000002_sub_n1n1a3f09c2', database: 'app', plugin: 'pglogical_output' };
    expect(Object.keys(wantedSlots([...slots, long], ['pgl_app_n1_sub_n2n1', long.name]))).toEqual(['pgl_app_n1_sub_n2n1', long.name]);
    expect(wantedSlots(slots, ['pgl_app_n1_sub_n2n1'])).toEqual({ pgl_app_n1_sub_n2n1: { type: 'logical', database: 'app', plugin: 'pglogical_output' } });
    expect(Object.keys(wantedSlots(slots, ['pgl_app_n1_sub_n2n1'], { keep: ['pgl_app_n1_sub_n9n1'] }))).toEqual(['pgl_app_n1_sub_n2n1', 'pgl_app_n1_sub_n9n1']);
    expect(Object.keys(wantedSlots(slots, ['pgl_app_n1_sub_n2n1', 'pgl_app_n1_sub_n3n1'], { keep: ['pgl_app_n1_sub_n3n1'], dropping: ['pgl_app_n1_sub_n3n1'] }))).toEqual(['pgl_app_n1_sub_n2n1']);
    expect(wantedSlots(slots, ['pgl_app_n1_sub_n7n1'])).toEqual({}); // recorded but not on this primary: nothing to copy
  });
  it('patches only the difference: new slots added, gone ones set to null; nothing when equal', () => {
    const wanted = wantedSlots(slots, ['pgl_app_n1_sub_n2n1']);
    expect(slotsPatch(undefined, wanted)).toEqual({ slots: wanted });
    expect(slotsPatch(wanted, wanted)).toBeNull();
    const before = { ...wanted, pgl_app_n1_sub_n3n1: { type: 'logical', database: 'app', plugin: 'pglogical_output' } };
    expect(slotsPatch(before, wanted)).toEqual({ slots: { pgl_app_n1_sub_n3n1: null } });
  });
});

describe('synchronous_standby_names', () => {
  it('reads the names Patroni writes, in any of its forms', () => {
    expect(namedStandbys('')).toEqual([]);
    expect(namedStandbys('"join-b9wu9-n1-9ptayhma"')).toEqual(['join-b9wu9-n1-9ptayhma']);
    expect(namedStandbys('2 ("db-n1-A","db-n1-b")')).toEqual(['db-n1-a', 'db-n1-b']);
    expect(namedStandbys('ANY 1 ("a", "b")')).toEqual(['a', 'b']);
    expect(namedStandbys('*')).toEqual(['*']);
  });

  it('tells commits waiting for a standby that no longer streams', () => {
    // Patroni 3.0.2: named, then gone during its 2 s wait; pg_stat_replication is empty and stays so
    expect(waitsForGoneStandby('"join-b9wu9-n1-9ptayhma"', [])).toBe(true);
    expect(waitsForGoneStandby('"db-n1-a"', ['db-n1-b'])).toBe(true);
    // streaming (names compare as Patroni does, case-insensitively), nothing named, or strict mode's "*": not stuck
    expect(waitsForGoneStandby('"db-n1-A"', ['db-n1-a'])).toBe(false);
    expect(waitsForGoneStandby('2 ("a","b")', ['b'])).toBe(false);
    expect(waitsForGoneStandby('', [])).toBe(false);
    expect(waitsForGoneStandby('*', [])).toBe(false);
  });
});

describe('a promotable synchronous standby', () => {
  it('is listed as one and runs by its own member key: a restarting one that is still listed is not', () => {
    expect(isPromotableStandby({ name: 'b', role: 'sync_standby', state: 'streaming' })).toBe(true);
    expect(isPromotableStandby({ name: 'b', role: 'sync_standby', state: 'running' })).toBe(true); // Patroni 3.0
    expect(isPromotableStandby({ name: 'b', role: 'sync_standby', state: 'starting' })).toBe(false);
    expect(isPromotableStandby({ name: 'b', role: 'sync_standby', state: 'stopped' })).toBe(false);
    expect(isPromotableStandby(r2)).toBe(false);
  });

  it('counts how long it has held without a break', () => {
    let s = heldSince(null, true, 1000);
    expect(s).toEqual({ since: 1000, heldMs: 0 });
    s = heldSince(s.since, true, 3500);
    expect(s).toEqual({ since: 1000, heldMs: 2500 });
    s = heldSince(s.since, false, 4000); // a break starts the count again
    expect(s).toEqual({ since: null, heldMs: 0 });
    expect(heldSince(s.since, true, 5000)).toEqual({ since: 5000, heldMs: 0 });
  });
});
