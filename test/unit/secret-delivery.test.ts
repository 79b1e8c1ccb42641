import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../api/schemas/database-spec.js';
import { deliveryScript, type SecretMount } from '../../activities/docker/secret-delivery.js';
import { serviceContainerOptions } from '../../activities/services/service-instances.js';
import { serviceBoot, serviceSecretFiles, serviceSecretPaths } from '../../activities/services/service-secrets.js';

// The delivery script run for real (python3, as this user) on a temporary directory standing in for the tmpfs.
let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
function deliver(files: Record<string, string>, o: { onlyIfReady?: boolean; remove?: string[] } = {}) {
  const m: SecretMount = { dirs: [dir], ready: path.join(dir, 'ready'), owner: userInfo().username };
  const out = execFileSync('python3', ['-c', deliveryScript(m)], { stdio: 'pipe', input: JSON.stringify({ files, remove: o.remove ?? [], ...(o.onlyIfReady ? { onlyIfReady: true } : {}) }) });
  return JSON.parse(out.toString().trim().split('\n').pop()!) as { changed: string[]; wasReady: boolean };
}

describe('delivering secret files through stdin', () => {
  it('writes changed files 0600, the ready marker last, leaves unchanged ones alone and refuses paths outside', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pgcp-deliver-'));
    const f = path.join(dir, 'a.conf');
    expect(deliver({ [f]: 'one' })).toEqual({ changed: [f], wasReady: false });
    expect(readFileSync(f, 'utf8')).toBe('one');
    expect(lstatSync(f).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(dir, 'ready'))).toBe(true);
    expect(deliver({ [f]: 'one' })).toEqual({ changed: [], wasReady: true });
    expect(() => deliver({ [path.join(tmpdir(), 'elsewhere')]: 'x' })).toThrow(/refusing/);
    // a link planted in place of a file is replaced, not followed
    const target = path.join(tmpdir(), `pgcp-deliver-target-${process.pid}`);
    writeFileSync(target, 'untouched');
    rmSync(f); symlinkSync(target, f);
    deliver({ [f]: 'two' });
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    rmSync(target);
  });

  it('gives a container still waiting nothing when asked only if ready (a partial delivery must not start it)', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pgcp-deliver-'));
    const f = path.join(dir, 'pgbouncer.ini');
    expect(deliver({ [f]: 'ini' }, { onlyIfReady: true })).toEqual({ changed: [], wasReady: false });
    expect(existsSync(f) || existsSync(path.join(dir, 'ready'))).toBe(false);
  });
});

const pool: ServiceSpec = { service_id: 'pool', service_type: 'pgbouncer', version: 'latest', host_ids: ['host-1'], connect_as: 'app' } as ServiceSpec;
const mcp: ServiceSpec = { service_id: 'mcp', service_type: 'mcp', version: 'latest', host_ids: ['host-1'], connect_as: 'app', config: {} } as ServiceSpec;
const target = { dbname: 'app', user: 'app', password: 'canary-secret-pw', hosts: [{ host: 'db-n1', port: 5432 }] };

describe('service containers keep their secret files in memory', () => {
  it('wait on a tmpfs for their files, then run their program on them', () => {
    const b = serviceBoot('pgbouncer');
    expect(b.Tmpfs).toEqual({ '/run/pgcp': 'rw,nosuid,nodev,noexec,size=4m,mode=0700' });
    expect(b.Entrypoint.slice(0, 2)).toEqual(['sh', '-c']);
    expect(b.Entrypoint[2]).toMatch(/until \[ -f \/run\/pgcp\/ready \]; do[\s\S]*exec "\$@"$/);
    expect(b.Entrypoint.slice(3)).toEqual(['pgcp-service', 'pgbouncer', '/run/pgcp/pgbouncer.ini']);
    expect(serviceBoot('mcp').Entrypoint.slice(4)).toEqual(['node', '/app/server.mjs', '/run/pgcp/config.json']);
  });

  it('render the password only into files on that tmpfs; the pooler reads its users there', () => {
    const files = serviceSecretFiles(pool, target, { host: 'db-n1', port: 5432 });
    expect(Object.keys(files).sort()).toEqual([serviceSecretPaths.poolerIni, serviceSecretPaths.poolerUserlist]);
    expect(files[serviceSecretPaths.poolerIni]).toContain('auth_file = /run/pgcp/userlist.txt');
    expect(files[serviceSecretPaths.poolerUserlist]).toBe('"app" "canary-secret-pw"\n');
    expect(JSON.parse(serviceSecretFiles(mcp, target, null)[serviceSecretPaths.mcpConfig]!).database.password).toBe('canary-secret-pw');
  });

  it('a pooler container mounts nothing from the host, and no container option holds the password', () => {
    const input = { container: 'c', serviceInstanceId: 'db-pool-host-1', databaseId: 'db', serviceId: 'pool', hostId: 'host-1', namespace: 'ns', image: 'img', hostAddress: '127.0.0.1', port: 8090, configVersion: 'aaaa', extraHosts: [] };
    const o = serviceContainerOptions({ ...input, filesDir: null, boot: serviceBoot('pgbouncer') });
    expect(o.HostConfig!.Binds).toBeUndefined();
    expect(o.HostConfig!.Tmpfs).toEqual(serviceBoot('pgbouncer').Tmpfs);
    expect(JSON.stringify(o)).not.toContain('canary-secret-pw');
    expect(serviceContainerOptions({ ...input, filesDir: '/d', boot: serviceBoot('mcp') }).HostConfig!.Binds).toEqual(['/d:/app/data:ro']);
  });
});
