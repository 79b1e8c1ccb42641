import { describe, expect, it } from 'vitest';
import { restoreFlags } from '../../workflows/model/backup.js';
import { normaliseRestoreOptions, parseTargetTime, restoreTargetIssues } from '../../workflows/model/restore-target.js';

const at = 'restore_config.restore_options';
const issues = (o: Record<string, string>, now?: number) => restoreTargetIssues(o, at, now).map((i) => i.message);

describe('restore time targets', () => {
  it.each([
    ['2025-01-01T01:30:00Z', '2025-01-01 01:30:00+00', Date.UTC(2025, 0, 1, 1, 30)], // the reference's own example
    ['2025-01-01t01:30:00z', '2025-01-01 01:30:00+00', Date.UTC(2025, 0, 1, 1, 30)],
    ['2025-05-05T09:38:52.25-04:00', '2025-05-05 09:38:52.25-04:00', Date.UTC(2025, 4, 5, 13, 38, 52, 250)],
    ['2025-05-05 09:38:52-04', '2025-05-05 09:38:52-04', Date.UTC(2025, 4, 5, 13, 38, 52)], // pgBackRest's form, as given
    ['2025-05-05 09:38:52+0530', '2025-05-05 09:38:52+05:30', Date.UTC(2025, 4, 5, 4, 8, 52)],
    ['2025-05-05 09:38:52', '2025-05-05 09:38:52', null], // no offset: the server's time zone decides
  ])('%s → %s', (input, normalised, epochMs) => {
    expect(parseTargetTime(input)).toEqual({ normalised, epochMs });
  });

  it.each(['2025-01-01', '01/01/2025 01:30', '2025-02-30T01:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T01:30:00+2', 'yesterday', '2025-01-01T01:30:00Z; rm -rf /'])('refuses %j', (target) => {
    expect(parseTargetTime(target)).toBeNull();
    expect(issues({ type: 'time', target })).toEqual([expect.stringContaining('is not a time: use RFC 3339')]);
  });

  it('hands pgBackRest its own form, whichever was sent', () => {
    expect(restoreFlags({ type: 'time', target: '2025-01-01T01:30:00Z' })).toEqual(['--delta', '--type=time', '--target=2025-01-01 01:30:00+00', '--target-action=promote']);
    expect(normaliseRestoreOptions({ set: '20250505-133723F', type: 'time', target: '2025-05-05 09:38:52-04' }))
      .toEqual({ set: '20250505-133723F', type: 'time', target: '2025-05-05 09:38:52-04' });
    expect(normaliseRestoreOptions({ type: 'lsn', target: '0/30000000' })).toEqual({ type: 'lsn', target: '0/30000000' });
  });

  it('refuses a time target ahead of now (recovery could not reach it)', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(issues({ type: 'time', target: '2026-01-01T00:00:01Z' }, now)).toEqual([expect.stringContaining('is in the future')]);
    expect(issues({ type: 'time', target: '2025-12-31T23:59:59Z' }, now)).toEqual([]);
  });
});

describe('the other restore options', () => {
  it('accepts the reference\'s examples', () => {
    expect(issues({ type: 'lsn', target: '0/30000000' })).toEqual([]);
    expect(issues({ set: '20250505-153628F', type: 'xid', target: '123456' })).toEqual([]);
    expect(issues({ set: '20250505-153628F_20250506-010000I', type: 'immediate' })).toEqual([]);
    expect(issues({ type: 'name', target: 'before-migration', 'target-action': 'pause', 'target-exclusive': 'y' })).toEqual([]);
    expect(issues({})).toEqual([]);
  });

  it.each([
    [{ type: 'timestamp' }, 'unknown restore type "timestamp"'],
    [{ type: 'time' }, 'type "time" needs a "target"'],
    [{ target: '0/3000000' }, '"target" needs "type" lsn, name, time or xid'],
    [{ type: 'immediate', target: '0/3000000' }, 'not "immediate"'],
    [{ type: 'lsn', target: '3000000' }, 'is not an LSN'],
    [{ type: 'xid', target: 'abc' }, 'is not a transaction id'],
    [{ set: 'latest-full' }, 'is not a backup label'],
    [{ type: 'lsn', target: '0/1', 'target-action': 'stop' }, 'must be pause, promote or shutdown'],
  ])('%j: %s', (options, message) => {
    expect(issues(options as Record<string, string>)).toEqual([expect.stringContaining(message)]);
  });
});
