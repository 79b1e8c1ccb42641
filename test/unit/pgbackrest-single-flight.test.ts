// Which running exec is a pgBackRest run of a given command: a retried backup joins it instead of starting another.
import { describe, expect, it } from 'vitest';
import { isPgbackrestRun } from '../../activities/backup/backups.js';

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
