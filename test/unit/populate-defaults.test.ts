import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { populateDefaults, type SpecContext } from '../../workflows/model/validate-spec.js';

const ctx: SpecContext = { hostIds: ['host-1', 'host-2', 'host-3'], supportedVersions: ['15.14', '16.10', '17.6'], creating: true };
const spec = (patch: Partial<DatabaseSpec> = {}): DatabaseSpec => ({
  database_name: 'app',
  nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-2', 'host-3'] }],
  ...patch,
});

describe('populateDefaults', () => {
  it('refuses host ids the cluster does not have, naming each once', () => {
    const s = spec({ nodes: [{ name: 'n1', host_ids: ['host-1', 'host-9'] }, { name: 'n2', host_ids: ['host-9'] }] });
    expect(populateDefaults(s, ctx).issues).toEqual([{ path: '', message: 'failed to validate database spec: got invalid host ids: host-9' }]);
  });

  it('lists every unknown host id', () => {
    const s = spec({ nodes: [{ name: 'n1', host_ids: ['host-8'] }, { name: 'n2', host_ids: ['host-9'] }] });
    expect(populateDefaults(s, ctx).issues[0]!.message).toBe('failed to validate database spec: got invalid host ids: host-8, host-9');
  });

  it('defaults postgres_version to the newest supported version and spock_version to 5', () => {
    const { spec: filled, issues } = populateDefaults(spec(), ctx);
    expect(issues).toEqual([]);
    expect(filled.postgres_version).toBe('17.6');
    expect(filled.spock_version).toBe('5');
  });

  it('keeps versions the user chose', () => {
    const { spec: filled, issues } = populateDefaults(spec({ postgres_version: '15.14', spock_version: '4' }), ctx);
    expect(issues).toEqual([]);
    expect(filled).toMatchObject({ postgres_version: '15.14', spock_version: '4' });
  });

  it('leaves the rest of the spec as it was', () => {
    const s = spec({ port: 5432, database_users: [{ username: 'app', password: 'pw' }] });
    expect(populateDefaults(s, ctx).spec).toMatchObject({ port: 5432, database_users: [{ username: 'app', password: 'pw' }], nodes: s.nodes });
  });

  it('refuses a major no host runs, with the reference message', () => {
    const { issues } = populateDefaults(spec({ postgres_version: '14.9' }), ctx);
    expect(issues).toContainEqual({ path: '', message: 'failed to validate database spec: host host-1 does not support version combination: postgres=14.9, spock=5' });
    expect(issues).toHaveLength(2);
  });

  it('checks a node-level version against the node first host', () => {
    const s = spec({ nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-2', 'host-3'], postgres_version: '18.1' }] });
    expect(populateDefaults(s, ctx).issues).toEqual([
      { path: '', message: 'failed to validate database spec: host host-2 does not support version combination: postgres=18.1, spock=5' },
    ]);
  });

  it('refuses every spec when no host has a Postgres image', () => {
    const { issues } = populateDefaults(spec(), { ...ctx, supportedVersions: [] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toContain('no host has a Postgres image');
  });
});
