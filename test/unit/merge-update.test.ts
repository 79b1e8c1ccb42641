import { describe, expect, it } from 'vitest';
import { mergeUpdate as mergeWithId } from '../../api/spec-admission.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

const stored: DatabaseSpec = {
  database_name: 'app', postgres_version: '17.12', spock_version: '5', postgresql_conf: { work_mem: '8MB' },
  database_users: [{ username: 'admin', password: 'old-secret', db_owner: true, attributes: ['LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port: 6432 }, { name: 'n2', host_ids: ['host-1'], port: 6433 }],
};
const { postgres_version: _v, spock_version: _s, ...submitted } = stored;
const withoutPasswords = { ...submitted, database_users: [{ username: 'admin', db_owner: true, attributes: ['LOGIN'] }] };

const mergeUpdate = (a: DatabaseSpec, b: DatabaseSpec) => mergeWithId(a, b, 'db1');

describe('mergeUpdate', () => {
  it('the same spec without secrets or versions merges back to the stored one, with no issue', () => {
    const r = mergeUpdate(stored, withoutPasswords);
    expect(r.issues).toEqual([]);
    expect(r.spec).toEqual(stored);
  });

  it('a new password and a new user are accepted', () => {
    const r = mergeUpdate(stored, { ...withoutPasswords, database_users: [{ username: 'admin', password: 'new', db_owner: true, attributes: ['LOGIN'] }, { username: 'app', password: 'x' }] });
    expect(r.issues).toEqual([]);
    expect(r.spec.database_users?.[0]?.password).toBe('new');
  });

  it('accepts what an update applies: configuration, user removal and changes, new nodes, removed nodes', () => {
    const r = mergeUpdate(stored, {
      ...withoutPasswords,
      postgresql_conf: { work_mem: '16MB' },
      pg_hba_conf: ['host app admin 10.0.0.0/8 scram-sha-256'],
      database_users: [{ username: 'app', password: 'x', attributes: ['LOGIN', 'CREATEDB'] }],
      nodes: [{ name: 'n1', host_ids: ['host-1'], port: 6432 }, { name: 'n3', host_ids: ['host-1'], port: 6434, postgres_version: '18.6', source_node: 'n1' }],
    });
    expect(r.issues).toEqual([]);
    expect(r.spec.nodes.map((n) => n.name)).toEqual(['n1', 'n3']);
  });

  it('refuses what cannot change, naming each field', () => {
    const r = mergeUpdate(stored, {
      ...withoutPasswords,
      database_name: 'other',
      nodes: [
        { name: 'n1', host_ids: ['host-2', 'host-3'], port: 7000, postgres_version: '18.6', source_node: 'n2' },
        { name: 'n3', host_ids: ['host-1'], source_node: 'n2' },
      ],
    });
    expect(r.issues.map((i) => i.path)).toEqual([
      'database_name', 'nodes[0].source_node', 'nodes[0].postgres_version', 'nodes[0].host_ids', 'nodes[1].source_node',
    ]);
    expect(r.issues.find((i) => i.path === 'nodes[0].postgres_version')?.message).toMatch(/cannot change/);
    expect(r.issues.find((i) => i.path === 'nodes[1].source_node')?.message).toBe('source node n2 must be an existing node that stays in the spec');
  });

  it('accepts hosts added to or removed from a node while one of its hosts stays (replicas come and go)', () => {
    const grown = mergeUpdate(stored, { ...withoutPasswords, nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], port: 6432 }, stored.nodes[1]!] });
    expect(grown.issues).toEqual([]);
    const moved = mergeUpdate(grown.spec, { ...withoutPasswords, nodes: [{ name: 'n1', host_ids: ['host-2'], port: 6432 }, stored.nodes[1]!] });
    expect(moved.issues).toEqual([]);
    const gone = mergeUpdate(stored, { ...withoutPasswords, nodes: [{ name: 'n1', host_ids: ['host-3'], port: 6432 }, stored.nodes[1]!] });
    expect(gone.issues[0]).toMatchObject({ path: 'nodes[0].host_ids', message: expect.stringContaining('must stay') });
  });

  it('accepts the same spec again after a node was added with a source_node', () => {
    const withSource: DatabaseSpec = { ...stored, nodes: [...stored.nodes, { name: 'n3', host_ids: ['host-1'], port: 6434, source_node: 'n2' }] };
    expect(mergeUpdate(withSource, withSource).issues).toEqual([]);
  });

  it('refuses a spec whose nodes are all new: a new node copies its data from an existing one', () => {
    const r = mergeUpdate(stored, { ...withoutPasswords, nodes: [{ name: 'n9', host_ids: ['host-1'] }] });
    expect(r.issues.map((i) => i.path)).toEqual(['nodes']);
  });

  it('accepts new ports, resources and orchestrator_opts of running nodes (their containers are made again, one at a time)', () => {
    const r = mergeUpdate({ ...stored, nodes: [{ name: 'n1', host_ids: ['host-1'] }] }, { ...withoutPasswords, port: 7000, memory: '1GiB', nodes: [{ name: 'n1', host_ids: ['host-1'], patroni_port: 7001, cpus: '2', orchestrator_opts: { swarm: { image: 'x:1' } } }] });
    expect(r.issues).toEqual([]);
    expect(r.spec).toMatchObject({ port: 7000, memory: '1GiB', nodes: [{ patroni_port: 7001, cpus: '2' }] });
  });

  describe('a node added from a backup', () => {
    const repo = { type: 'posix' as const, base_path: '/backups' };
    const backed = { ...stored, backup_config: { repositories: [repo] } };
    const restore = { source_database_id: 'db1', source_node_name: 'n1', source_database_name: 'app', repository: repo };
    const add = (rc: object, extra: object = {}) => mergeUpdate(backed, { ...backed, nodes: [...backed.nodes, { name: 'n3', host_ids: ['host-1'], restore_config: rc, ...extra } as DatabaseSpec['nodes'][number]] });

    it('restores a backup of one of its own nodes, from a repository it mounts', () => {
      expect(add(restore).issues).toEqual([]);
    });

    it('names the field when the backup is of another database, an unknown node or a repository it does not mount', () => {
      expect(add({ ...restore, source_database_id: 'other' }).issues.map((i) => i.path)).toEqual(['nodes[2].restore_config.source_database_id']);
      expect(add({ ...restore, source_node_name: 'n9' }).issues.map((i) => i.path)).toEqual(['nodes[2].restore_config.source_node_name']);
      expect(add({ ...restore, repository: { type: 'posix', base_path: '/elsewhere' } }).issues.map((i) => i.path)).toEqual(['nodes[2].restore_config.repository.base_path']);
      expect(add({ ...restore, repository: { type: 'posix', base_path: 'rel' } }).issues.map((i) => i.path)).toContain('nodes[2].restore_config.repository.base_path');
    });

    it('refuses a recovery target of the user and a source_node other than the backup\'s node', () => {
      const r = add({ ...restore, restore_options: { type: 'time', target: '2026-01-01 00:00:00+00', 'set': '20260101-000000F' } });
      expect(r.issues.map((i) => i.message).join('\n')).toMatch(/"type" cannot be set/);
      expect(r.issues.map((i) => i.message).join('\n')).toMatch(/"target" cannot be set/);
      expect(r.issues.some((i) => i.message.includes('"set"'))).toBe(false);
      expect(add(restore, { source_node: 'n2' }).issues.map((i) => i.path)).toEqual(['nodes[2].source_node']);
    });

    describe('a database-level restore_config in an update (pgEdge: for every node created without a source_node)', () => {
      const n3 = (extra: object = {}) => ({ name: 'n3', host_ids: ['host-1'], ...extra });
      const update = (rc: object, node: object) => mergeUpdate(backed, { ...backed, restore_config: rc, nodes: [...backed.nodes, node] } as DatabaseSpec);

      it('adds a node without a source_node from that backup', () => {
        const r = update(restore, n3());
        expect(r.issues).toEqual([]);
        expect(r.spec.nodes[2]!.restore_config).toEqual(restore);
        expect(r.spec.restore_config).toBeUndefined(); // the running instances' options stay as they are
      });

      it('a node\'s source_node takes precedence: that node copies from its source', () => {
        const r = update(restore, n3({ source_node: 'n2' }));
        expect(r.issues).toEqual([]);
        expect(r.spec.nodes[2]!.restore_config).toBeUndefined();
        expect(r.spec.nodes[2]!.source_node).toBe('n2');
      });

      it('a node\'s own restore_config takes precedence over it', () => {
        const own = { ...restore, source_node_name: 'n2' };
        expect(update(restore, n3({ restore_config: own })).spec.nodes[2]!.restore_config).toEqual(own);
      });

      it('names the database-level field when the node it applies to cannot start from it', () => {
        const r = update({ ...restore, source_database_id: 'other' }, n3());
        expect(r.issues).toEqual([{ path: 'restore_config.source_database_id', message: expect.stringContaining('it applies to new node n3, which has neither a source_node nor a restore_config of its own') }]);
        expect(update({ ...restore, restore_options: { type: 'time', target: 'soon' } }, n3({ source_node: 'n1' })).issues.map((i) => i.path)).toEqual(['restore_config.restore_options']);
      });

      it('the stored one sent again applied at creation: a node added now copies from the first node', () => {
        const created = { ...backed, restore_config: restore };
        const r = mergeUpdate(created, { ...created, nodes: [...created.nodes, n3()] });
        expect(r.issues).toEqual([]);
        expect(r.spec.nodes[2]!.restore_config).toBeUndefined();
      });
    });

    it('an existing node keeps its restore_config when an update omits it, and cannot be given a new one', () => {
      const joined = { ...backed, nodes: [...backed.nodes, { name: 'n3', host_ids: ['host-1'], restore_config: restore }] };
      const kept = mergeUpdate(joined, { ...joined, nodes: [...backed.nodes, { name: 'n3', host_ids: ['host-1'] }] });
      expect(kept.issues).toEqual([]);
      expect(kept.spec.nodes[2]!.restore_config).toEqual(restore);
      const late = mergeUpdate(backed, { ...backed, nodes: [{ ...backed.nodes[0]!, restore_config: restore }, backed.nodes[1]!] });
      expect(late.issues.map((i) => i.path)).toEqual(['nodes[0].restore_config']);
    });
  });
});
