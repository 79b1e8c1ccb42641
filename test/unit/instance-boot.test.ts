import { describe, expect, it } from 'vitest';
import { afterDelivery, bootScript, deliveryScript, secretTmpfs } from '../../activities/docker/instance-boot.js';
import { peersPgpass } from '../../activities/docker/instance-config.js';
import { secretMountsOf } from '../../activities/docker/instance-secrets.js';
import type Docker from 'dockerode';

describe('instance secrets in memory', () => {
  it('mounts both secret directories as small private tmpfs', () => {
    expect(secretTmpfs()).toEqual({ '/run/pgcp': 'rw,nosuid,nodev,noexec,size=4m,mode=0700', '/etc/pgcp': 'rw,nosuid,nodev,noexec,size=4m,mode=0700' });
  });

  it('waits for the delivery before Patroni starts, as postgres, on the delivered file', () => {
    const s = bootScript();
    expect(s.indexOf('until [ -f /run/pgcp/ready ]')).toBeLessThan(s.indexOf('exec setpriv'));
    expect(s).toMatch(/exec setpriv --reuid=postgres --regid=postgres --init-groups patroni \/run\/pgcp\/patroni\.yml$/);
  });

  it('runs a one-off\'s script only after its delivery, and gives up waiting after the timeout', () => {
    const s = afterDelivery('pgbackrest restore', 10).split('\n');
    expect(s[1]).toBe('until [ -f /run/pgcp/ready ]; do');
    expect(s.join('\n')).toContain('if [ $n -gt 50 ]; then echo "pgcp: no configuration delivered" >&2; exit 3; fi');
    expect(s.at(-1)).toBe('pgbackrest restore');
  });

  it('delivers through stdin into the secret directories only, without following links', () => {
    const s = deliveryScript();
    expect(s).toContain('json.load(sys.stdin)');
    expect(s).toContain("raise SystemExit('refusing ' + path)");
    expect(s).toContain('os.O_NOFOLLOW');
  });

  it("writes the peers' pgpass with libpq's escapes", () => {
    expect(peersPgpass('a:b\\c')).toBe('*:*:*:postgres:a\\:b\\\\c\n');
  });
});

describe('containers of an earlier version', () => {
  const info = (Tmpfs?: Record<string, string>) => ({ HostConfig: { ...(Tmpfs ? { Tmpfs } : {}) } }) as unknown as Docker.ContainerInspectInfo;
  it('are told apart by their missing in-memory mounts: nothing is ever delivered into their disk layer', () => {
    expect(secretMountsOf(info(secretTmpfs()))).toBe(true);
    expect(secretMountsOf(info())).toBe(false);
    expect(secretMountsOf(info({ '/run/pgcp': '' }))).toBe(false);
  });
});
