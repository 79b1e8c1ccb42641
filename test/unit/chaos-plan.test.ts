import { describe, expect, it } from 'vitest';
import { faultKinds, operations, parseChaosArgs, planRounds, renderTable, typicalLogEntries, type RoundResult } from '../../scripts/chaos/plan.js';

describe('chaos round planning', () => {
  it('the same seed gives the same rounds; another seed other rounds', () => {
    expect(planRounds(42, 20)).toEqual(planRounds(42, 20));
    expect(planRounds(42, 20)).not.toEqual(planRounds(43, 20));
  });

  it('7 rounds cover every fault, 5 every operation; 20 rounds hold each fault at least twice', () => {
    for (const seed of [1, 2, 3, 12345, 0xffffffff]) {
      const rounds = planRounds(seed, 20);
      expect(new Set(rounds.slice(0, 7).map((r) => r.fault))).toEqual(new Set(faultKinds));
      expect(new Set(rounds.slice(0, 5).map((r) => r.operation))).toEqual(new Set(operations));
      for (const f of faultKinds) expect(rounds.filter((r) => r.fault === f).length).toBeGreaterThanOrEqual(2);
      for (const r of rounds) {
        expect(r.point).toBeGreaterThanOrEqual(0);
        expect(r.point).toBeLessThanOrEqual(typicalLogEntries[r.operation]);
      }
      expect(rounds.map((r) => r.index)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  it('narrowed to some kinds, only those', () => {
    const rounds = planRounds(7, 6, { faults: ['kill-api', 'kill-primary'], operations: ['switchover'] });
    expect(new Set(rounds.map((r) => r.fault))).toEqual(new Set(['kill-api', 'kill-primary']));
    expect(rounds.every((r) => r.operation === 'switchover')).toBe(true);
  });

  it('points spread over the whole operation, the request included', () => {
    const points = Array.from({ length: 200 }, (_, s) => planRounds(s, 1, { operations: ['switchover'] })[0]!.point);
    expect(points).toContain(0);
    expect(points).toContain(typicalLogEntries.switchover);
  });
});

describe('chaos arguments and table', () => {
  it('--rounds and --seed are checked; without a seed one is drawn', () => {
    expect(parseChaosArgs({ rounds: '20', seed: '99' }, () => 1)).toEqual({ rounds: 20, seed: 99 });
    expect(parseChaosArgs({}, () => 5)).toEqual({ rounds: 10, seed: 5 });
    expect(() => parseChaosArgs({ rounds: '0' }, () => 1)).toThrow(/--rounds/);
    expect(() => parseChaosArgs({ seed: '-1' }, () => 1)).toThrow(/--seed/);
    expect(() => parseChaosArgs({ seed: 'x' }, () => 1)).toThrow(/--seed/);
  });

  it('one line per round with fault, point, operation, outcome and time to recover; the total names failed rounds', () => {
    const results: RoundResult[] = [
      { index: 1, fault: 'kill-api', operation: 'create', point: 0, at: 'request', ok: true, outcome: 'completed after one re-submit', recoverMs: 12_345, rows: 400 },
      { index: 2, fault: 'pause-primary', operation: 'restore', point: 7, at: 'restoring n1 with pgBackRest', ok: false, outcome: 'task failed: boom', recoverMs: null, rows: 0 },
    ];
    const table = renderTable(99, results).split('\n');
    expect(table[0]).toBe('chaos seed 99: 2 rounds');
    expect(table[1]).toMatch(/^ {2}# {2}fault +point +operation +outcome +recover +rows$/);
    expect(table[3]).toMatch(/^ {2}1 {2}kill-api +0: request +create +ok completed after one re-submit +12\.3 s +400$/);
    expect(table[4]).toMatch(/^ {2}2 {2}pause-primary +7: restoring n1 with pgBackRest +restore +FAILED task failed: boom +- +0$/);
    expect(table.at(-1)).toBe('1 of 2 rounds passed; failed: 2');
  });
});
