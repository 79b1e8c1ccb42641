import { describe, expect, it } from 'vitest';
import { hbaLines, patroniConfig, preloadLibraries, type PatroniConfigInput } from '../../activities/patroni/config.js';

const input = (patch: Partial<PatroniConfigInput> = {}): PatroniConfigInput => ({
  instanceId: 'shop-n1-689qacsi',
  scope: 'shop--n1',
  etcdHosts: ['10.0.0.1:2379', '10.0.0.2:2379'],
  pgMajor: '17',
  superuserPassword: 'su',
  replicationPassword: 'rep',
  conf: {},
  hba: [],
  ident: [],
  ...patch,
});
type Cfg = {
  etcd3: { hosts: string[]; use_proxies: boolean };
  bootstrap: { dcs: { postgresql: { parameters: Record<string, unknown> } } };
  postgresql: { parameters: Record<string, unknown>; pg_hba: string[]; pg_ident: string[]; bin_dir: string; authentication: Record<string, { username: string; password: string }> };
};
const cfg = (patch: Partial<PatroniConfigInput> = {}) => patroniConfig(input(patch)) as unknown as Cfg;

describe('patroniConfig parameters', () => {
  it('puts DCS-only settings under bootstrap.dcs and not in the local parameters', () => {
    const c = cfg({ conf: { max_connections: 500, max_wal_senders: 16 } });
    const dcs = c.bootstrap.dcs.postgresql.parameters;
    const local = c.postgresql.parameters;
    expect(dcs).toMatchObject({ wal_level: 'logical', track_commit_timestamp: 'on', max_connections: 500, max_wal_senders: 16, hot_standby: 'on' });
    for (const k of ['wal_level', 'max_connections', 'max_wal_senders', 'max_worker_processes', 'max_replication_slots', 'track_commit_timestamp']) {
      expect(local).not.toHaveProperty(k);
    }
  });

  it('tells Patroni to leave the logical replication layer\'s slots alone (it drops slots it does not know)', () => {
    const c = cfg({}) as any;
    expect(c.bootstrap.dcs.ignore_slots).toEqual(expect.arrayContaining([{ type: 'logical', plugin: 'pglogical_output' }]));
  });

  it('treats DCS-only names case-insensitively', () => {
    const c = cfg({ conf: { MAX_LOCKS_PER_TRANSACTION: 128 } });
    expect(c.bootstrap.dcs.postgresql.parameters).toHaveProperty('max_locks_per_transaction', 128);
    expect(c.postgresql.parameters).not.toHaveProperty('MAX_LOCKS_PER_TRANSACTION');
  });

  it('an upper-case name replaces the default instead of sitting beside it', () => {
    const c = cfg({ conf: { MAX_CONNECTIONS: 500, SHARED_PRELOAD_LIBRARIES: 'spock,pg_stat_statements' } });
    expect(c.bootstrap.dcs.postgresql.parameters).toMatchObject({ max_connections: 500 });
    expect(Object.keys(c.bootstrap.dcs.postgresql.parameters)).not.toContain('MAX_CONNECTIONS');
    expect(c.postgresql.parameters).toMatchObject({ shared_preload_libraries: 'pglogical,pg_stat_statements' });
    expect(Object.keys(c.postgresql.parameters)).not.toContain('SHARED_PRELOAD_LIBRARIES');
  });

  it('lets the user override a default and add settings, locally', () => {
    const c = cfg({ conf: { password_encryption: 'md5', work_mem: '64MB' } });
    expect(c.postgresql.parameters).toMatchObject({ password_encryption: 'md5', work_mem: '64MB', 'pglogical.conflict_resolution': 'last_update_wins' });
    expect(c.bootstrap.dcs.postgresql.parameters).not.toHaveProperty('work_mem');
  });

  it('always preloads pglogical', () => {
    expect(cfg().postgresql.parameters.shared_preload_libraries).toBe('pglogical');
    expect(cfg({ conf: { shared_preload_libraries: 'pg_stat_statements' } }).postgresql.parameters.shared_preload_libraries).toBe('pglogical,pg_stat_statements');
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

  it('is what patroniConfig writes, with the ident lines as given', () => {
    const c = cfg({ hba: ['host app app 10.0.0.0/8 md5'], ident: ['map alice app'] });
    expect(c.postgresql.pg_hba).toEqual(hbaLines(['host app app 10.0.0.0/8 md5']));
    expect(c.postgresql.pg_ident).toEqual(['map alice app']);
  });
});

describe('patroniConfig identity', () => {
  it('uses the etcd endpoints given, proxies on', () => {
    expect(cfg().etcd3).toEqual({ hosts: ['10.0.0.1:2379', '10.0.0.2:2379'], use_proxies: true });
  });

  it('names the cluster, the member and the binaries of the major', () => {
    const c = patroniConfig(input({ pgMajor: '16' })) as Record<string, unknown>;
    expect(c).toMatchObject({ scope: 'shop--n1', name: 'shop-n1-689qacsi', postgresql: { bin_dir: '/usr/lib/postgresql/16/bin', connect_address: 'shop-n1-689qacsi:5432' } });
  });

  it('passes the generated passwords to the superuser and replication users', () => {
    expect(cfg().postgresql.authentication).toEqual({ superuser: { username: 'postgres', password: 'su' }, replication: { username: 'pgcp_replicator', password: 'rep' } });
  });
});
