import { describe, expect, it } from 'vitest';
import { configPatch, dynamicPostgresConfig, hbaLines, patroniConfig, preloadLibraries, type PatroniConfigInput } from '../../activities/patroni/config.js';
import { settingTookEffect } from '../../activities/patroni/apply-config.js';

const input = (patch: Partial<PatroniConfigInput> = {}): PatroniConfigInput => ({
  instanceId: 'shop-n1-689qacsi',
  scope: 'shop--n1',
  etcdHosts: ['10.0.0.1:2379', '10.0.0.2:2379'],
  pgMajor: '17',
  superuserPassword: 'su',
  replicationPassword: 'rep',
  etcdCredentials: { username: 'pgcp-db-shop', password: 'etcd-pw' },
  restApiPassword: 'rest-pw',
  conf: {},
  hba: [],
  ident: [],
  ...patch,
});
type Cfg = {
  etcd3: { hosts: string[]; use_proxies: boolean; username?: string; password?: string };
  restapi: { authentication?: { username: string; password: string } };
  bootstrap: { dcs: { postgresql: { parameters: Record<string, unknown>; pg_hba: string[]; pg_ident: string[] } } };
  postgresql: { parameters: Record<string, unknown>; pg_hba: string[]; pg_ident: string[]; bin_dir: string; authentication: Record<string, { username: string; password: string }> };
};
const cfg = (patch: Partial<PatroniConfigInput> = {}) => patroniConfig(input(patch)) as unknown as Cfg;

describe('patroniConfig credentials', () => {
  it("gives Patroni the database's own etcd user and protects its REST API", () => {
    const c = cfg();
    expect(c.etcd3).toMatchObject({ username: 'pgcp-db-shop', password: 'etcd-pw' });
    expect(c.restapi.authentication).toEqual({ username: 'pgcp', password: 'rest-pw' });
  });

  it('gives no etcd credentials when etcd runs without authentication', () => {
    const c = cfg({ etcdCredentials: null });
    expect(c.etcd3.username).toBeUndefined();
    expect(c.etcd3.password).toBeUndefined();
  });
});

describe('patroniConfig parameters', () => {
  const dcs = (patch: Partial<PatroniConfigInput> = {}) => cfg(patch).bootstrap.dcs.postgresql.parameters;

  it('puts every parameter in the DCS and none in the local file (local values would freeze the DCS ones)', () => {
    const c = cfg({ conf: { max_connections: 500, max_wal_senders: 16, work_mem: '64MB' } });
    expect(c.bootstrap.dcs.postgresql.parameters).toMatchObject({ wal_level: 'logical', track_commit_timestamp: 'on', max_connections: 500, max_wal_senders: 16, hot_standby: 'on', work_mem: '64MB' });
    expect(c.postgresql.parameters).toBeUndefined();
    expect(c.postgresql.pg_hba).toBeUndefined();
  });

  it('bounds the WAL a stuck slot may hold on every instance, unless the node\'s postgresql_conf sets its own bound', () => {
    expect(dcs()).toMatchObject({ max_slot_wal_keep_size: '4GB' });
    expect(dynamicPostgresConfig({ conf: {}, hba: [], ident: [] }).parameters).toMatchObject({ max_slot_wal_keep_size: '4GB' }); // what updates apply too
    expect(dcs({ conf: { max_slot_wal_keep_size: '20GB' } })).toMatchObject({ max_slot_wal_keep_size: '20GB' });
    expect(dcs({ conf: { MAX_SLOT_WAL_KEEP_SIZE: -1 } })).toMatchObject({ max_slot_wal_keep_size: -1 });
  });

  it('makes replication inside a node synchronous, not strict: a commit waits for a replica only while one streams', () => {
    const c = cfg({}) as any;
    expect(c.bootstrap.dcs.synchronous_mode).toBe(true);
    expect(c.bootstrap.dcs.synchronous_mode_strict).toBeUndefined();
  });

  it('tells Patroni to leave the logical replication layer\'s slots alone (it drops slots it does not know)', () => {
    const c = cfg({}) as any;
    expect(c.bootstrap.dcs.ignore_slots).toEqual(expect.arrayContaining([{ type: 'logical', plugin: 'pglogical_output' }]));
  });

  it('an upper-case name replaces the default instead of sitting beside it', () => {
    const p = dcs({ conf: { MAX_CONNECTIONS: 500, SHARED_PRELOAD_LIBRARIES: 'spock,pg_stat_statements' } });
    expect(p).toMatchObject({ max_connections: 500, shared_preload_libraries: 'pglogical,pg_stat_statements' });
    expect(Object.keys(p)).not.toContain('MAX_CONNECTIONS');
    expect(Object.keys(p)).not.toContain('SHARED_PRELOAD_LIBRARIES');
  });

  it('lets the user override a default and add settings', () => {
    expect(dcs({ conf: { password_encryption: 'md5', work_mem: '64MB' } })).toMatchObject({ password_encryption: 'md5', work_mem: '64MB', 'pglogical.conflict_resolution': 'last_update_wins' });
  });

  it('always preloads pglogical', () => {
    expect(dcs().shared_preload_libraries).toBe('pglogical');
    expect(dcs({ conf: { shared_preload_libraries: 'pg_stat_statements' } }).shared_preload_libraries).toBe('pglogical,pg_stat_statements');
  });
});

describe('configPatch', () => {
  const desired = (conf: Record<string, unknown>, hba: string[] = []) => dynamicPostgresConfig({ conf, hba, ident: [] });

  it('is null when the DCS already holds the desired configuration', () => {
    const d = desired({ work_mem: '8MB' });
    expect(configPatch(d, d)).toBeNull();
  });

  it('sends changed and new parameters, and null for removed ones (Patroni deletes a key set to null)', () => {
    const current = desired({ work_mem: '8MB', statement_timeout: '5s' });
    const patch = configPatch(current, desired({ work_mem: '16MB', log_min_duration_statement: 250 })) as any;
    expect(patch.postgresql.parameters).toEqual({ statement_timeout: null, work_mem: '16MB', log_min_duration_statement: 250 });
    expect(patch.postgresql).not.toHaveProperty('pg_hba');
  });

  it('replaces the hba lines as a whole when they change', () => {
    const patch = configPatch(desired({}), desired({}, ['host app admin 10.0.0.0/8 scram-sha-256'])) as any;
    expect(patch.postgresql.pg_hba).toContain('host app admin 10.0.0.0/8 scram-sha-256');
    expect(patch.postgresql).not.toHaveProperty('parameters');
  });

  it('compares values as text: 200 in the DCS equals "200" in the spec', () => {
    expect(configPatch({ ...desired({}), parameters: { ...desired({}).parameters, max_connections: '200' } }, desired({}))).toBeNull();
  });
});

describe('preloadLibraries', () => {
  it('maps spock to pglogical, drops snowflake and lolor, keeps pglogical once', () => {
    expect(preloadLibraries('spock, snowflake, pg_stat_statements, pglogical,lolor')).toBe('pglogical,pg_stat_statements');
  });

  it('keeps the order of other libraries and ignores blanks', () => {
    expect(preloadLibraries(' auto_explain ,, pg_stat_statements ')).toBe('pglogical,auto_explain,pg_stat_statements');
  });

  it('gives pglogical alone for nothing or a non-string', () => {
    expect(preloadLibraries(undefined)).toBe('pglogical');
    expect(preloadLibraries(['spock'])).toBe('pglogical');
  });
});

describe('pg_hba order', () => {
  it('system rules first, user lines next, the catch-all last', () => {
    const user = ['host app app 10.0.0.0/8 md5', 'hostssl all bob 0.0.0.0/0 cert'];
    const lines = hbaLines(user);
    expect(lines.slice(0, 3)).toEqual([
      'local all all trust',
      'host replication pgcp_replicator 0.0.0.0/0 scram-sha-256',
      'host all postgres 0.0.0.0/0 scram-sha-256',
    ]);
    expect(lines.slice(3, 5)).toEqual(user);
    expect(lines.slice(5)).toEqual(['host all all 0.0.0.0/0 scram-sha-256', 'host all all ::/0 scram-sha-256']);
  });

  it('is what patroniConfig writes to the DCS, with the ident lines as given', () => {
    const c = cfg({ hba: ['host app app 10.0.0.0/8 md5'], ident: ['map alice app'] });
    expect(c.bootstrap.dcs.postgresql.pg_hba).toEqual(hbaLines(['host app app 10.0.0.0/8 md5']));
    expect(c.bootstrap.dcs.postgresql.pg_ident).toEqual(['map alice app']);
  });
});

describe('patroniConfig identity', () => {
  it('uses the etcd endpoints given, proxies on', () => {
    expect(cfg().etcd3).toEqual({ hosts: ['10.0.0.1:2379', '10.0.0.2:2379'], use_proxies: true, username: 'pgcp-db-shop', password: 'etcd-pw' });
  });

  it('names the cluster, the member and the binaries of the major', () => {
    const c = patroniConfig(input({ pgMajor: '16' })) as Record<string, unknown>;
    expect(c).toMatchObject({ scope: 'shop--n1', name: 'shop-n1-689qacsi', postgresql: { bin_dir: '/usr/lib/postgresql/16/bin', connect_address: 'shop-n1-689qacsi:5432' } });
  });

  it('passes the generated passwords to the superuser and replication users', () => {
    expect(cfg().postgresql.authentication).toEqual({ superuser: { username: 'postgres', password: 'su' }, replication: { username: 'pgcp_replicator', password: 'rep' } });
  });
});

describe('patroniConfig etcd TLS and pgpass', () => {
  it('speaks https to etcd and checks its certificate against the CA delivered beside it', () => {
    expect(cfg({ etcdTls: { caFile: '/run/pgcp/etcd-ca.pem' } }).etcd3).toMatchObject({ protocol: 'https', cacert: '/run/pgcp/etcd-ca.pem' });
    expect(cfg().etcd3).not.toHaveProperty('protocol');
  });

  it("keeps Patroni's pgpass (replication and superuser passwords) on the instance's tmpfs", () => {
    expect((patroniConfig(input()) as { postgresql: { pgpass: string } }).postgresql.pgpass).toBe('/run/pgcp/pgpass');
  });
});

describe('settingTookEffect', () => {
  it('waits for the file entry to change from what it was before the change, and to be valid', () => {
    expect(settingTookEffect({ setting: '4GB', applied: true }, { setting: '4GB', applied: true })).toBe(false); // not written yet
    expect(settingTookEffect({ setting: '4GB', applied: true }, { setting: '48MB', applied: true })).toBe(true);
    expect(settingTookEffect(null, { setting: '48MB', applied: true })).toBe(true); // a parameter the file did not hold
    expect(settingTookEffect(null, null)).toBe(false);
    expect(settingTookEffect({ setting: '4GB', applied: true }, { setting: 'bogus', applied: false })).toBe(false);
  });
});
