// Which running exec is a pgBackRest run of a given command, and which one-off container is a restore's run of the
// same task: a retried backup or restore joins it instead of starting another.
import { describe, expect, it } from 'vitest';
import { isPgbackrestRun } from '../../activities/backup/backups.js';
import { isJoinable } from '../../activities/docker/one-off.js';

describe('isPgbackrestRun', () => {
  const exec = (entrypoint: string, ...args: string[]) => ({ entrypoint, arguments: args });
  it('matches the command after the options', () => {
    expect(isPgbackrestRun(exec('pgbackrest', '--config=/etc/pgbackrest.conf', '--stanza=db', 'backup', '--type=full'), 'backup')).toBe(true);
  });
  it('does not match another command, another program or a shell mentioning it', () => {
    expect(isPgbackrestRun(exec('pgbackrest', '--config=/x', '--stanza=db', 'info', '--output=json'), 'backup')).toBe(false);
    expect(isPgbackrestRun(exec('pgbackrest', '--stanza=db', 'archive-push', '/pg/wal/backup'), 'backup')).toBe(false);
    expect(isPgbackrestRun(exec('sh', '-c', 'pgbackrest backup'), 'backup')).toBe(false);
  });
});

describe('isJoinable (a restore\'s one-off container found by a retry)', () => {
  const found = (key: string | undefined, status: string) => ({ Config: { Labels: key ? { 'pgcp.run-key': key } : ({} as Record<string, string>) }, State: { Status: status } });
  it('joins a container of the same run that runs or has ended', () => {
    for (const s of ['running', 'exited', 'paused', 'restarting']) expect(isJoinable(found('task-a', s), 'task-a')).toBe(true);
  });
  it('does not join another task\'s run, an unkeyed one, one never started or one being removed', () => {
    expect(isJoinable(found('task-b', 'running'), 'task-a')).toBe(false);
    expect(isJoinable(found(undefined, 'running'), 'task-a')).toBe(false);
    expect(isJoinable(found('task-a', 'running'), undefined)).toBe(false);
    expect(isJoinable(found('task-a', 'created'), 'task-a')).toBe(false);
    expect(isJoinable(found('task-a', 'removing'), 'task-a')).toBe(false);
    expect(isJoinable(found('task-a', 'dead'), 'task-a')).toBe(false);
  });
});
