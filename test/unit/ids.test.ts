import { describe, expect, it } from 'vitest';
import { hostHash, ids, nodeOrdinal, uuidv7At } from '../../workflows/model/ids.js';
import { IdentifierSchema } from '../../api/schemas/common.js';

describe('hostHash', () => {
  it.each([
    ['host-1', '689qacsi'],
    ['host-2', '9ptayhma'],
    ['host-3', 'ant97dj4'],
    ['host-4', '2kqnsx2a'],
    ['us-east-1', 'n5fe2mcy'],
    ['ap-south-1', 'aynsc4pj'],
    ['eu-central-1', '4x2jaal5'],
  ])('%s hashes to the reference value %s', (hostId, hash) => {
    expect(hostHash(hostId)).toBe(hash);
  });
});

describe('ids', () => {
  it('names an instance <database>-<node>-<host hash>, as the reference does', () => {
    expect(ids.instance('storefront', 'n1', 'host-1')).toBe('storefront-n1-689qacsi');
    expect(ids.instance('storefront', 'n2', 'host-3')).toBe('storefront-n2-ant97dj4');
  });

  it('names the instance volume and the database network after their owners', () => {
    expect(ids.volume('storefront-n1-689qacsi')).toBe('storefront-n1-689qacsi-data');
    expect(ids.network('storefront')).toBe('pgcp-storefront');
  });

  it('names a subscription sub_<subscriber><provider>', () => {
    expect(ids.subscription('n1', 'n3')).toBe('sub_n1n3');
    expect(ids.subscription('n3', 'n1')).toBe('sub_n3n1');
  });

  it('gives every (database, node) pair its own Patroni scope', () => {
    const databases = ['a', 'a-n1', 'a-n1-n2', 'n1', 'n1-a', 'shop', 'shop-n1'];
    const nodes = ['n1', 'n2', 'n12'];
    const scopes = databases.flatMap((d) => nodes.map((n) => ids.patroniScope(d, n)));
    expect(new Set(scopes).size).toBe(databases.length * nodes.length);
    expect(ids.patroniScope('shop', 'n1')).toBe('shop--n1');
  });

  it('relies on a database id never containing "--", which the identifier schema refuses', () => {
    expect(IdentifierSchema.safeParse('shop--n1').success).toBe(false);
    expect(IdentifierSchema.safeParse('shop-n1').success).toBe(true);
  });

  it('names the one-off containers after what they serve', () => {
    expect(ids.restoreContainer('shop-n1-689qacsi')).toBe('shop-n1-689qacsi-restore');
    expect(ids.verifyContainer('verify-images/0193:abc-def', '17')).toBe('pgcp-verify-s0193abc-def-17');
  });

  it('puts a node\'s Patroni keys under the namespace of the Patroni configuration', () => {
    expect(ids.patroniKeys('shop', 'n1')).toBe(`${ids.patroniNamespace}shop--n1/`);
    expect(ids.patroniKeys('shop', 'n1')).toBe('/pgcp/shop--n1/');
  });

  it('names backup schedules by database, node and schedule id, under the database\'s prefix', () => {
    expect(ids.backupSchedule('shop', 'n1', 'daily')).toBe('backup-shop-n1-daily');
    expect(ids.backupSchedule('shop', 'n1', 'daily').startsWith(ids.backupSchedulePrefix('shop'))).toBe(true);
    expect(ids.scheduledBackupRun('backup-shop-n1-daily')).toBe('scheduled-backup-shop-n1-daily');
  });

  it('names the task queues of the control plane and of each host', () => {
    expect(ids.controlPlaneTaskQueue).toBe('control-plane');
    expect(ids.hostTaskQueue('host-2')).toBe('host.host-2');
  });

  it('reads the ordinal of a node name', () => {
    expect(nodeOrdinal('n1')).toBe(1);
    expect(nodeOrdinal('n12')).toBe(12);
    expect(nodeOrdinal('x')).toBe(0);
  });
});

describe('uuidv7At', () => {
  it('makes a version 7 UUID whose order follows its time', () => {
    const a = uuidv7At(Date.UTC(2026, 11, 1, 11, 0), 'c0ffee00-1234-4abc-9def-0123456789ab');
    const b = uuidv7At(Date.UTC(2026, 11, 1, 11, 1), '00000000-0000-4000-8000-000000000000');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b > a).toBe(true);
  });
});
