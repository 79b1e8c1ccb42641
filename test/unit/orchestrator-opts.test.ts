import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { repositoriesAt, repositoryDirs } from '../../workflows/model/backup-repository.js';
import { checkExtraVolumeHostPath, effectiveSwarm, extraVolumesAt, heldByExtraVolumes, imageTagIssue, instanceMounts, orchestratorOptsIssues, pinnedImage, volumeHeldRepositories } from '../../workflows/model/orchestrator-opts.js';
import { redactSpec } from '../../workflows/model/redact.js';

const backups = { host_path: '/srv/pgcp-backups', destination_path: '/backups' };
const spec: DatabaseSpec = {
  database_name: 'app',
  postgres_version: '17.6',
  orchestrator_opts: { swarm: { extra_volumes: [backups], extra_labels: { team: 'a' }, image: 'db:1' } },
  backup_config: { repositories: [{ type: 'posix', base_path: '/backups/repo' }, { type: 'posix', base_path: '/var/tmp/other' }] },
  nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'], orchestrator_opts: { swarm: { extra_labels: { team: 'b' } } } }],
};

describe('orchestrator_opts.swarm', () => {
  it('a node object replaces the database one as a whole (no merge); an empty image returns to the manifest', () => {
    expect(effectiveSwarm(spec, 'n1')).toEqual(spec.orchestrator_opts!.swarm);
    expect(effectiveSwarm(spec, 'n2')).toEqual({ extra_labels: { team: 'b' } });
    expect(pinnedImage(spec, 'n1')).toBe('db:1');
    expect(pinnedImage(spec, 'n2')).toBeUndefined();
    expect(pinnedImage({ ...spec, orchestrator_opts: { swarm: { image: '' } } }, 'n1')).toBeUndefined();
  });

  it('mounts the extra volumes, and a repository inside one needs no mount of its own', () => {
    const dirs = repositoryDirs('db1', spec.backup_config!.repositories);
    expect(instanceMounts(spec, 'n1', dirs, null)).toEqual([
      { Type: 'bind', Source: '/srv/pgcp-backups', Target: '/backups', ReadOnly: false },
      { Type: 'bind', Source: '/var/tmp/other/databases/db1', Target: '/var/tmp/other/databases/db1', ReadOnly: false },
    ]);
    // n2 replaced the database's options: no extra volume, so both databases' directories are mounted at their paths
    expect(instanceMounts(spec, 'n2', dirs, '/data/i/ca').map((m) => m.Source)).toEqual(['/backups/repo/databases/db1', '/var/tmp/other/databases/db1', '/data/i/ca']);
  });

  it('holds extra volumes to the repositories\' host-path policy; a base_path inside a volume on every node is no host path', () => {
    const policy = { roots: ['/srv'], forbidden: ['/var/lib/pgcp'] };
    expect(checkExtraVolumeHostPath('/srv/pgcp-backups', policy)).toBeNull();
    expect(checkExtraVolumeHostPath('/etc', policy)).toMatch(/outside the directories the operator allows/);
    expect(checkExtraVolumeHostPath('/var/lib/pgcp/instances', { forbidden: ['/var/lib/pgcp'] })).toMatch(/inside the control plane's data directory/);
    expect(checkExtraVolumeHostPath('/', { forbidden: ['/var/lib/pgcp'] })).toMatch(/contains the control plane's data directory/);
    expect(extraVolumesAt(spec)).toEqual([{ hostPath: '/srv/pgcp-backups', at: 'orchestrator_opts.swarm.extra_volumes[0].host_path' }]);
    // n2 has no volume: the database-level /backups/repo is a host path there
    expect(volumeHeldRepositories(spec, repositoriesAt(spec))).toEqual(new Set());
    const both = { ...spec, nodes: [spec.nodes[0]!, { name: 'n2', host_ids: ['host-1'] }] };
    expect(volumeHeldRepositories(both, repositoriesAt(both))).toEqual(new Set(['backup_config.repositories[0]']));
    // an in-place restore's repository: held when every target node has the volume
    expect(heldByExtraVolumes(spec, ['n1'], '/backups')).toBe(true);
    expect(heldByExtraVolumes(spec, ['n1', 'n2'], '/backups')).toBe(false);
    expect(heldByExtraVolumes(spec, ['n1'], '/srv/elsewhere')).toBe(false);
    expect(heldByExtraVolumes(spec, ['n1'], undefined)).toBe(false);
  });

  it('accepts a valid spec and checks pgEdge-format tags against the versions', () => {
    expect(orchestratorOptsIssues(spec)).toEqual([]);
    expect(imageTagIssue('ghcr.io/pgedge/pgedge-postgres:17.6-spock5.0.4-standard-1', '17.6', '5')).toBeNull();
    expect(imageTagIssue('ghcr.io/pgedge/pgedge-postgres:17-spock5-standard', '17.6', '5')).toBeNull();
    expect(imageTagIssue('ghcr.io/pgedge/pgedge-postgres:17.6-spock5.0.4-standard-1', '17.5', '5')).toMatch(/does not match postgres_version 17.5/);
    expect(imageTagIssue('registry:5000/pgedge-postgres:17.6-spock4.0.1-standard', '17.6', '5')).toMatch(/spock/);
    expect(imageTagIssue('pgcp/postgres:15-05ef0ed6d062', '17.6', '5')).toBeNull();
    expect(imageTagIssue('img@sha256:abc', '17.6', '5')).toBeNull();
  });

  it('is echoed with swarm.image, as "" when unset, at both levels', () => {
    const out = redactSpec({ ...spec, orchestrator_opts: { swarm: { extra_labels: { a: 'b' } } } });
    expect(out.orchestrator_opts).toEqual({ swarm: { extra_labels: { a: 'b' }, image: '' } });
    expect(out.nodes[1]!.orchestrator_opts).toEqual({ swarm: { extra_labels: { team: 'b' }, image: '' } });
    expect(out.nodes[0]!.orchestrator_opts).toBeUndefined();
  });
});
