import { describe, expect, it } from 'vitest';
import { manifestEntry, manifestMajors } from '../../activities/docker/images.js';
import { recipeHash } from '../../images/recipe.mjs';

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
  it('has no entry for a major it does not build', () => {
    expect(manifestEntry('16')).toBeNull();
  });
});
