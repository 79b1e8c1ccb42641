import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { effectiveSwarm, imageTagIssue, instanceMounts, orchestratorOptsIssues, pinnedImage } from '../../workflows/model/orchestrator-opts.js';
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
    expect(instanceMounts(spec, 'n1', spec.backup_config!.repositories)).toEqual([
      { Type: 'bind', Source: '/srv/pgcp-backups', Target: '/backups', ReadOnly: false },
      { Type: 'bind', Source: '/var/tmp/other', Target: '/var/tmp/other', ReadOnly: false },
    ]);
    // n2 replaced the database's options: no extra volume, so both repositories are mounted at their paths
    expect(instanceMounts(spec, 'n2', spec.backup_config!.repositories).map((m) => m.Source)).toEqual(['/backups/repo', '/var/tmp/other']);
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
