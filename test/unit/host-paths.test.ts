// The host-path policy: the pure rules (workflows/model/host-paths.ts) on the text of a path, and the host side
// (platform/host-paths.ts) that walks a path with lstat and never follows a symbolic link.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHostDir, HostPathError, readHostFile, symlinkIssue } from '../../platform/host-paths.js';
import { repositoriesAt, repositoryHostPathIssues } from '../../workflows/model/backup-repository.js';
import { hostPathIssue, isUnder, pathPrefixes } from '../../workflows/model/host-paths.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

const policy = { roots: ['/srv/backups', '/mnt/nas/'], forbidden: ['/var/lib/pgcp'] };

describe('hostPathIssue', () => {
  it.each([
    ['/srv/backups', null],
    ['/srv/backups/team-a//', null],
    ['/mnt/nas/x', null],
  ])('allows %s', (p, expected) => expect(hostPathIssue(p, policy)).toBe(expected));

  it.each([
    ['relative/dir', 'must be an absolute path'],
    ['/srv/backups/../../etc', 'must not contain "." or ".." components'],
    ['/srv/backups/./x', 'must not contain "." or ".." components'],
    ['/var/run', 'is outside the directories the operator allows (PGCP_REPOSITORY_ROOTS: /srv/backups, /mnt/nas)'],
    ['/srv/backupsX', 'is outside the directories the operator allows'],
    ['/var/lib/pgcp/store', "is inside the control plane's data directory /var/lib/pgcp"],
    ['/var/lib', "contains the control plane's data directory /var/lib/pgcp"],
    ['/', "contains the control plane's data directory"],
  ])('refuses %s', (p, message) => expect(hostPathIssue(p, policy)).toContain(message));

  it('the data directory wins over an allowed root that holds it, and no roots means no allow-list', () => {
    expect(hostPathIssue('/srv/backups/pgcp-data/x', { roots: ['/srv/backups'], forbidden: ['/srv/backups/pgcp-data'] })).toContain('inside the control plane');
    expect(hostPathIssue('/anywhere/ca.pem', { forbidden: ['/var/lib/pgcp'] })).toBeNull();
  });

  it('compares whole components', () => {
    expect(isUnder('/a/bc', '/a/b')).toBe(false);
    expect(isUnder('/a/b/c', '/a/b/')).toBe(true);
    expect(pathPrefixes('/a//b/')).toEqual(['/a', '/a/b']);
  });
});

describe('repositoryHostPathIssues', () => {
  it('names each field: base_path against the roots, a CA file only against the data directory', () => {
    const spec = {
      backup_config: { repositories: [{ type: 'posix', base_path: '/var/run' }, { type: 's3', s3_bucket: 'b', custom_options: { 'storage-ca-file': '/var/lib/pgcp/store/.s.PGSQL.7432' } }] },
      nodes: [{ name: 'n1', host_ids: ['h'], restore_config: { source_database_id: 'd', source_node_name: 'n1', source_database_name: 'x', repository: { type: 'cifs', base_path: '/srv/backups/../x' } } }],
    } as unknown as DatabaseSpec;
    expect(repositoryHostPathIssues(repositoriesAt(spec), policy)).toEqual([
      { path: 'backup_config.repositories[0].base_path', message: expect.stringContaining('outside the directories the operator allows') },
      { path: 'backup_config.repositories[1].custom_options[storage-ca-file]', message: expect.stringContaining("inside the control plane's data directory") },
      { path: 'nodes[0].restore_config.repository.base_path', message: expect.stringContaining('".."') },
    ]);
    expect(repositoryHostPathIssues(repositoriesAt({ nodes: [], backup_config: { repositories: [{ type: 's3', s3_bucket: 'b', base_path: '/anything' }] } } as unknown as DatabaseSpec), policy)).toEqual([]);
  });
});

describe('the host side never follows a symbolic link', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgcp-host-paths-'));
    await mkdir(path.join(dir, 'real'));
    await symlink('/etc', path.join(dir, 'link'));
    await writeFile(path.join(dir, 'real', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await symlink('/etc/hostname', path.join(dir, 'real', 'ca-link.pem'));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('symlinkIssue names the first link along the path, and is fine with parts that do not exist yet', async () => {
    expect(await symlinkIssue(path.join(dir, 'link', 'x', 'y'))).toBe(`${path.join(dir, 'link')} is a symbolic link: host paths are used without following links`);
    expect(await symlinkIssue(path.join(dir, 'real', 'new', 'deeper'))).toBeNull();
    expect(await symlinkIssue(path.join(dir, 'real', 'ca.pem'))).toContain('is not a directory');
    expect(await symlinkIssue(path.join(dir, 'real', 'ca.pem'), { file: true })).toBeNull();
  });

  it('ensureHostDir makes the missing components, and refuses to go through a link (nothing made behind it)', async () => {
    const roots = { roots: [dir], forbidden: ['/var/lib/pgcp'] };
    expect(await ensureHostDir(path.join(dir, 'real', 'databases', 'db1'), roots)).toBe(path.join(dir, 'real', 'databases', 'db1'));
    await expect(ensureHostDir(path.join(dir, 'link', 'pgcp-should-not-exist'), roots)).rejects.toThrow(HostPathError);
    await expect(readFile('/etc/pgcp-should-not-exist')).rejects.toThrow();
    await expect(ensureHostDir('/var/run/x', roots)).rejects.toThrow('outside the directories the operator allows');
  });

  it('readHostFile reads a file but not through a link, nor one in the data directory', async () => {
    expect((await readHostFile(path.join(dir, 'real', 'ca.pem'), { forbidden: [] })).toString()).toContain('BEGIN CERTIFICATE');
    await expect(readHostFile(path.join(dir, 'real', 'ca-link.pem'), { forbidden: [] })).rejects.toThrow('is a symbolic link');
    await expect(readHostFile(path.join(dir, 'link', 'hostname'), { forbidden: [] })).rejects.toThrow('is a symbolic link');
    await expect(readHostFile(path.join(dir, 'real', 'ca.pem'), { forbidden: [dir] })).rejects.toThrow("inside the control plane's data directory");
  });
});

describe('the repository leaf a root shell prepares inside the container', () => {
  it('refuses a leaf that is a symbolic link (postgres could plant one to have root chown another file)', async () => {
    const { prepareLeafScript } = await import('../../activities/backup/backups.js');
    const { execFileSync } = await import('node:child_process');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgcp-leaf-'));
    try {
      await symlink('/etc', path.join(dir, 'n1'));
      let status = 0;
      let stderr = '';
      try { execFileSync('sh', ['-c', prepareLeafScript, 'sh', path.join(dir, 'n1')], { stdio: 'pipe' }); } catch (err) {
        status = (err as { status: number }).status;
        stderr = String((err as { stderr: Buffer }).stderr);
      }
      expect(status).toBe(3);
      expect(stderr).toContain(`refusing: ${path.join(dir, 'n1')} is a symbolic link`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
