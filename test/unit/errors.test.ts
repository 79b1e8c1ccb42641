import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { goaIssue, goaPath } from '../../api/errors.js';

const issuesOf = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  if (r.success) throw new Error('expected a validation failure');
  return r.error.issues;
};

describe('goaPath', () => {
  it('renders body paths with dots and indexes', () => {
    expect(goaPath('json', ['spec', 'nodes', 0, 'name'])).toBe('body.spec.nodes[0].name');
    expect(goaPath('query', ['cluster_id'])).toBe('cluster_id');
  });
});

describe('goaIssue maps zod issues to Goa error names', () => {
  const Body = z.object({
    id: z.string().max(36).optional(),
    spec: z.object({ name: z.string().regex(/n[0-9]+/), port: z.number().int().max(65535).optional(), sort: z.enum(['asc', 'desc']).optional() }),
  });

  it('a missing field is missing_field naming it', () => {
    const [issue] = issuesOf(Body, {});
    expect(goaIssue('json', issue!)).toEqual({ name: 'missing_field', message: '"spec" is missing from body' });
  });

  it('too long is invalid_length with the path', () => {
    const [issue] = issuesOf(Body, { id: 'x'.repeat(40), spec: { name: 'n1' } });
    expect(goaIssue('json', issue!)).toEqual({ name: 'invalid_length', message: 'length of body.id must be lesser or equal than 36' });
  });

  it('a pattern mismatch is invalid_pattern quoting the regexp', () => {
    const [issue] = issuesOf(Body, { spec: { name: 'x' } });
    expect(goaIssue('json', issue!)).toEqual({ name: 'invalid_pattern', message: 'body.spec.name must match the regexp "n[0-9]+"' });
  });

  it('a number out of range is invalid_range', () => {
    const [issue] = issuesOf(Body, { spec: { name: 'n1', port: 70000 } });
    expect(goaIssue('json', issue!).name).toBe('invalid_range');
  });

  it('a wrong enum value is invalid_enum_value listing the values', () => {
    const [issue] = issuesOf(Body, { spec: { name: 'n1', sort: 'up' } });
    expect(goaIssue('json', issue!)).toEqual({ name: 'invalid_enum_value', message: 'value of body.spec.sort must be one of "asc", "desc"' });
  });

  it('a wrong type is invalid_field_type', () => {
    const [issue] = issuesOf(Body, { spec: { name: 'n1', port: 'x' } });
    expect(goaIssue('json', issue!)).toEqual({ name: 'invalid_field_type', message: 'body.spec.port must be of type number' });
  });
});
