// pgBackRest's info JSON reduced to what the status report shows: the last successful backup and the earliest
// recovery point (the end of the oldest backup).
import { expect, it } from 'vitest';
import { parseBackupInfo } from '../../worker/backup-info.js';

const checkedAt = new Date('2026-01-02T00:00:00Z');
const t = (iso: string) => Date.parse(iso) / 1000;

it('the last successful backup and the end of the oldest one (the earliest recovery point)', () => {
  const info = JSON.stringify([{
    name: 'db', status: { code: 0, message: 'ok' },
    backup: [
      { label: '20260101-000000F', type: 'full', error: false, timestamp: { start: t('2026-01-01T00:00:00Z'), stop: t('2026-01-01T00:01:00Z') } },
      { label: '20260101-000000F_20260101-060000I', type: 'incr', error: false, timestamp: { start: t('2026-01-01T06:00:00Z'), stop: t('2026-01-01T06:00:30Z') } },
      { label: 'broken', type: 'incr', error: true, timestamp: { start: t('2026-01-01T12:00:00Z'), stop: t('2026-01-01T12:00:30Z') } },
    ],
  }]);
  expect(parseBackupInfo(info, checkedAt)).toEqual({
    checkedAt: checkedAt.toISOString(), count: 2,
    lastSuccessAt: '2026-01-01T06:00:30.000Z', lastLabel: '20260101-000000F_20260101-060000I', lastType: 'incr',
    earliestRecoveryPoint: '2026-01-01T00:01:00.000Z',
  });
});

it('a stanza without backups yet is no error; a failing repository is', () => {
  expect(parseBackupInfo(JSON.stringify([{ name: 'db', status: { code: 2, message: 'no valid backups' }, backup: [] }]), checkedAt)).toEqual({ checkedAt: checkedAt.toISOString(), count: 0 });
  expect(parseBackupInfo(JSON.stringify([{ name: 'db', status: { code: 99, message: 'other' }, backup: [] }]), checkedAt).error).toBe('other');
});
