import { describe, expect, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { availableUpgrades, compareVersions, upgradedSpec, upgradeTarget, type ImageVersion } from '../../workflows/model/upgrades.js';

const v = (postgres_version: string, image: string): ImageVersion => ({ postgres_version, spock_version: '5', image });
const old15 = v('15.18', 'pgcp/postgres:15-release-a');
const new15 = v('15.20', 'pgcp/postgres:15-b');
const pg17 = v('17.12', 'pgcp/postgres:17-c');
const spec: DatabaseSpec = {
  database_name: 'app', postgres_version: '15.18', spock_version: '5',
  nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], postgres_version: '15.18' }, { name: 'n2', host_ids: ['host-2'], postgres_version: '15.9' }],
};

describe('image upgrades', () => {
  it('orders versions numerically', () => {
    expect(compareVersions('15.20', '15.18')).toBeGreaterThan(0);
    expect(compareVersions('15.9', '15.18')).toBeLessThan(0);
    expect(compareVersions('17.1', '17.1')).toBe(0);
  });

  it('offers newer images of the same major built on every host of the database', () => {
    const both = new Map([['host-1', [new15, old15, pg17]], ['host-2', [old15, new15, pg17]]]);
    expect(availableUpgrades(spec, both)).toEqual([new15]);
    expect(availableUpgrades(spec, new Map([['host-1', [new15]], ['host-2', [old15]]]))).toEqual([]);
    expect(availableUpgrades({ ...spec, postgres_version: '15.20' }, both)).toEqual([]);
  });

  it('stores the target version and lets node versions equal to the old one follow it', () => {
    const up = upgradedSpec(spec, new15);
    expect(up.postgres_version).toBe('15.20');
    expect(up.nodes[0]).toEqual({ name: 'n1', host_ids: ['host-1', 'host-2'] });
    expect(up.nodes[1]!.postgres_version).toBe('15.9');
  });

  it('refuses an image that is not offered, naming what is', () => {
    expect(upgradeTarget(spec, new15.image, [new15])).toEqual({ target: new15 });
    const r = upgradeTarget(spec, pg17.image, [new15]);
    expect('error' in r && r.error).toMatch(/^upgrade not available: pgcp\/postgres:17-c .*available: pgcp\/postgres:15-b \(15\.20\)/);
  });
});
