import { describe, expect, it } from 'vitest';
import { restoreSourceProblem } from '../../activities/backup/restore-check.js';

const where = 'restore source db/n1 for node n1';
const info = (backups: { label: string; stop: number }[], status = { code: 0, message: 'ok' }) =>
  JSON.stringify([{ name: 'db', status, backup: backups.map((b) => ({ label: b.label, type: 'full', timestamp: { start: b.stop - 5, stop: b.stop }, error: false })) }]);
const t0 = Date.UTC(2025, 0, 1, 1, 0) / 1000; // 2025-01-01T01:00:00Z
const two = info([{ label: '20250101-010000F', stop: t0 }, { label: '20250101-020000F', stop: t0 + 3600 }]);

describe('whether a restore can start, from pgbackrest info', () => {
  it('lets a restore to the latest point, to a set it has, or to a time after a backup start', () => {
    expect(restoreSourceProblem(two, undefined, where)).toBeNull();
    expect(restoreSourceProblem(two, { set: '20250101-020000F', type: 'immediate' }, where)).toBeNull();
    expect(restoreSourceProblem(two, { type: 'time', target: '2025-01-01T01:30:00Z' }, where)).toBeNull();
    expect(restoreSourceProblem(two, { type: 'time', target: '2025-01-01 01:00:00+00' }, where)).toBeNull();
  });

  it.each([
    ['a stanza pgBackRest cannot find', info([], { code: 1, message: 'missing stanza path' }), undefined, 'missing stanza path'],
    ['a repository without a backup', info([]), undefined, 'no backup in the repository'],
    ['a set it does not have', two, { set: '20250102-000000F' }, 'backup set 20250102-000000F is not in the repository (it has 20250101-010000F, 20250101-020000F)'],
    ['a time before the first backup ends', two, { type: 'time', target: '2025-01-01T00:59:59Z' }, 'no backup ends before the target 2025-01-01T00:59:59Z: the earliest ends at 2025-01-01T01:00:00Z'],
    ['a time before the chosen set ends', two, { set: '20250101-020000F', type: 'time', target: '2025-01-01T01:30:00Z' }, 'no backup (set 20250101-020000F) ends before'],
    ['output that is not JSON', 'ERROR: [049]: unable to get address', undefined, "pgBackRest's info is not JSON"],
  ])('refuses %s', (_t, json, options, message) => {
    expect(restoreSourceProblem(json, options as Record<string, string> | undefined, where)).toContain(message);
  });
});
