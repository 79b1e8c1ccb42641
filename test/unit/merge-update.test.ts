import { describe, expect, it } from 'vitest';
import { mergeUpdate } from '../../api/spec-admission.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';

const stored: DatabaseSpec = {
  database_name: 'app', postgres_version: '17.12', spock_version: '5', postgresql_conf: { work_mem: '8MB' },
  database_users: [{ username: 'admin', password: 'old-secret', db_owner: true, attributes: ['LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port: 6432 }, { name: 'n2', host_ids: ['host-1'], port: 6433 }],
};
const { postgres_version: _v, spock_version: _s, ...submitted } = stored;
const withoutPasswords = { ...submitted, database_users: [{ username: 'admin', db_owner: true, attributes: ['LOGIN'] }] };

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

  it('refuses what it cannot apply yet, naming each field', () => {
    const r = mergeUpdate(stored, {
      ...withoutPasswords,
      database_name: 'other',
      postgresql_conf: { work_mem: '16MB' },
      database_users: [],
      nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], port: 7000, postgres_version: '18.6' }, { name: 'n3', host_ids: ['host-1'] }],
    });
    expect(r.issues.map((i) => i.path)).toEqual([
      'database_name', 'nodes[0].postgres_version', 'nodes[0].host_ids', 'nodes[1]', 'nodes', 'postgresql_conf', 'nodes[0].port', 'database_users',
    ]);
    expect(r.issues.find((i) => i.path === 'nodes[0].postgres_version')?.message).toMatch(/cannot change/);
    expect(r.issues.find((i) => i.path === 'database_users')?.message).toBe('removing user admin is not supported by this control plane yet');
  });
});
