import { describe, expect, it } from 'vitest';
import { manifestEntry, manifestMajors, parseExtensionsLabel } from '../../activities/docker/images.js';
import { imageTag, manifestEntry as recipeEntry, recipeHash, recipes } from '../../images/recipe.mjs';

describe('version manifest', () => {
  it('serves Postgres 15, 17 and 18 with the pglogical driver', () => {
    expect(manifestMajors()).toEqual(['15', '17', '18']);
    for (const major of manifestMajors()) {
      expect(manifestEntry(major)).toMatchObject({ major, driver: 'pglogical', image: expect.stringMatching(new RegExp(`^pgcp/postgres:${major}-[0-9a-f]{12}$`)) });
    }
  });
  it('names images by a stable recipe hash that differs per major', () => {
    expect(recipeHash('15')).toBe(recipeHash('15'));
    expect(new Set(manifestMajors().map((m) => recipeHash(m))).size).toBe(3);
  });
  it('lists the extensions each image carries: pgvector, PostGIS, pg_cron and pgAudit where Debian packages them', () => {
    expect(manifestEntry('15')!.extensions).toEqual(['pg_cron', 'pgaudit', 'postgis']); // bookworm has no postgresql-15-pgvector
    expect(manifestEntry('17')!.extensions).toEqual(['pg_cron', 'pgaudit', 'postgis', 'vector']);
    expect(manifestEntry('18')!.extensions).toEqual(['pg_cron', 'pgaudit', 'postgis', 'vector']);
  });
  it('reads the extension versions an image was built with from its label', () => {
    expect(parseExtensionsLabel('pg_cron=1.6.5 pgaudit=17.1 postgis=3.5.2 vector=0.8.0')).toEqual({ pg_cron: '1.6.5', pgaudit: '17.1', postgis: '3.5.2', vector: '0.8.0' });
    expect(parseExtensionsLabel(undefined)).toEqual({});
    expect(parseExtensionsLabel('vector=none')).toEqual({});
  });
  it('has no entry for a major it does not build', () => {
    expect(manifestEntry('16')).toBeNull();
  });
  it('has variants of a major: an older 15 minor (bookworm without its updates) to upgrade from', () => {
    expect(recipes()).toEqual(['15', '15-release', '17', '18']);
    expect(recipeEntry('15-release')).toMatchObject({ major: '15', suite: 'bookworm', updates: false, driver: 'pglogical' });
    expect(recipeEntry('15')).toMatchObject({ major: '15', updates: true });
    expect(imageTag('15-release')).toMatch(/^pgcp\/postgres:15-release-[0-9a-f]{12}$/);
    expect(recipeHash('15-release')).not.toBe(recipeHash('15'));
    // a variant carries its major's extensions: an upgrade from it finds the same ones
    expect(recipeEntry('15-release').extensions).toEqual(recipeEntry('15').extensions);
  });
});
