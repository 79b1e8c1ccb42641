// Lag on a primary: WAL positions compared as numbers, since when a reader is behind, and which slot serves
// which peer subscription.
import { describe, expect, it } from 'vitest';
import { LsnHistory, lostSlotsError, lsnToBigInt, promotableSyncState, subscriptionOfSlot } from '../../worker/replication-lag.js';

describe('lsnToBigInt', () => {
  it('reads both halves as hex, so positions compare as numbers and not as strings', () => {
    expect(lsnToBigInt('0/0')).toBe(0n);
    expect(lsnToBigInt('1/0') - lsnToBigInt('0/FFFFFFFF')).toBe(1n);
    expect(lsnToBigInt('A/10') > lsnToBigInt('9/FFFFFFF0')).toBe(true);
  });
});

describe('LsnHistory', () => {
  it('is 0 while the reader has confirmed everything, and grows from when the WAL first passed it', () => {
    const h = new LsnHistory();
    h.record(1_000, 100n);
    h.record(2_000, 100n); // unchanged: not a new sample
    h.record(3_000, 250n);
    h.record(9_000, 400n);
    expect(h.secondsBehind(400n, 10_000)).toBe(0);
    expect(h.secondsBehind(100n, 10_000)).toBe(7); // the WAL went past 100 at 3 s
    expect(h.secondsBehind(250n, 10_000)).toBe(1);
    expect(h.secondsBehind(100n, 20_000)).toBe(17); // a stopped reader's lag keeps growing
  });

  it('keeps a bounded number of samples and then says at least the span it remembers', () => {
    const h = new LsnHistory(3);
    for (let i = 1; i <= 10; i++) h.record(i * 1000, BigInt(i * 10));
    expect(h.secondsBehind(5n, 10_000)).toBe(2); // only 8, 9 and 10 s remain
  });
});

describe('subscriptionOfSlot', () => {
  const owners = { pgl_app_n1_sub_n2n1: 'n2', spk_app_n1_sub_n3n1: 'n3', pgl_app_n1_sub_n1n1a3f09c2: 'n1000000002' };
  it('maps a provider\'s slot to the peer subscription whose recorded slot it is, a long name\'s hashed one too', () => {
    expect(subscriptionOfSlot('pgl_app_n1_sub_n2n1', owners, 'n1')).toEqual({ subscription: 'sub_n2n1', subscriberNode: 'n2' });
    expect(subscriptionOfSlot('spk_app_n1_sub_n3n1', owners, 'n1')).toEqual({ subscription: 'sub_n3n1', subscriberNode: 'n3' });
    expect(subscriptionOfSlot('pgl_app_n1_sub_n1n1a3f09c2', owners, 'n1')).toEqual({ subscription: 'sub_n1000000002n1', subscriberNode: 'n1000000002' });
  });
  it('leaves other slots alone (Patroni\'s physical slots, slots no subscription records)', () => {
    expect(subscriptionOfSlot('db_n1_689qacsi', owners, 'n1')).toBeUndefined();
    expect(subscriptionOfSlot('pgl_app_n1_sub_n9n1', owners, 'n1')).toBeUndefined();
    expect(subscriptionOfSlot('toString', owners, 'n1')).toBeUndefined();
  });
});

describe('lostSlotsError', () => {
  it('names each slot Postgres invalidated and the subscriber that must be added again; says nothing otherwise', () => {
    const slot = { type: 'logical' as const, active: false, retainedBytes: 0 };
    expect(lostSlotsError([{ ...slot, name: 'a', walStatus: 'reserved' }, { ...slot, name: 'b', walStatus: 'unreserved' }])).toBeUndefined();
    const text = lostSlotsError([{ ...slot, name: 'pgl_app_n1_sub_n2n1', walStatus: 'lost', subscription: 'sub_n2n1', subscriberNode: 'n2' }, { ...slot, name: 'a', walStatus: 'reserved' }]);
    expect(text).toBe("replication slot pgl_app_n1_sub_n2n1 (node n2's subscription sub_n2n1) lost: Postgres removed WAL it still needed (past max_slot_wal_keep_size); the subscriber cannot catch up and must be removed from the database and added again");
  });
});

describe('promotableSyncState', () => {
  const r = (instanceId: string, syncState?: string) => ({ instanceId, state: 'streaming', ...(syncState ? { syncState } : {}), lagBytes: 0, lagSeconds: 0 });
  it('reports sync only for the standby Patroni lists too: named but not yet recorded is potential', () => {
    expect(promotableSyncState([r('db-n1-a', 'sync'), r('db-n1-b', 'async')], ['DB-n1-A'])).toEqual([r('db-n1-a', 'sync'), r('db-n1-b', 'async')]);
    expect(promotableSyncState([r('db-n1-a', 'sync')], [])).toEqual([r('db-n1-a', 'potential')]);
    expect(promotableSyncState([r('db-n1-a')], [])).toEqual([r('db-n1-a')]);
  });
});
