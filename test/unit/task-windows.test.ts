import { describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { collectPage, rangeClause, searchWindows, uuidv7Prefix, uuidv7Time, type IdRange } from '../../api/task-windows.js';

const day = 86_400_000;
const now = Date.UTC(2026, 11, 6, 12);
const floorMs = now - 31 * day;

/** A UUIDv7 made at `ms` (the library's own, with its time bits replaced). */
function idAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const rest = uuidv7().slice(13);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}${rest}`;
}

const inRange = (id: string, r: IdRange) => (!r.gt || id > r.gt) && (!r.gte || id >= r.gte) && (!r.lt || id < r.lt);

/** What listTasks does with the ranges: fetch range by range until enough, then sort and cut. */
function page(ids: string[], order: 'asc' | 'desc', limit: number, after?: string): { page: string[]; queries: number } {
  const found: string[] = [];
  let queries = 0;
  for (const { range: r } of searchWindows({ order, after, now, floorMs })) {
    queries++;
    found.push(...ids.filter((id) => inRange(id, r)));
    if (found.length >= limit) break;
  }
  found.sort();
  if (order === 'desc') found.reverse();
  return { page: found.slice(0, limit), queries };
}

function expected(ids: string[], order: 'asc' | 'desc', limit: number, after?: string): string[] {
  const sorted = [...ids].sort();
  if (order === 'desc') sorted.reverse();
  return sorted.filter((id) => !after || (order === 'asc' ? id > after : id < after)).slice(0, limit);
}

describe('task id ranges', () => {
  it('reads a UUIDv7 time back from its prefix', () => {
    const id = uuidv7();
    const t = uuidv7Time(id)!;
    expect(Math.abs(t - Date.now())).toBeLessThan(5_000);
    expect(id.startsWith(uuidv7Prefix(t))).toBe(true);
    expect(uuidv7Time('scheduled-backup-x')).toBeNull();
  });

  // Tasks spread over 60 days (some past the retention floor), dense in the last hour, plus ids that are no UUIDv7.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ids = [
    ...Array.from({ length: 300 }, () => idAt(Math.floor(now - rand() * 60 * day))),
    ...Array.from({ length: 300 }, () => idAt(Math.floor(now - rand() * 3_600_000))),
    'scheduled-backup-a-n1-daily', '00000000-0000-0000-0000-000000000000',
  ];

  for (const order of ['asc', 'desc'] as const) {
    it(`pages ${order} exactly as a full sort would, with and without a cursor`, () => {
      for (const limit of [1, 10, 100, 1000]) {
        for (const after of [undefined, ...expected(ids, order, 5).slice(1), ...expected(ids, order, 400).slice(-1)]) {
          expect(page(ids, order, limit, after).page).toEqual(expected(ids, order, limit, after));
        }
      }
    });
  }

  it('finds the newest page of a busy namespace in a few queries', () => {
    expect(page(ids, 'desc', 20).queries).toBeLessThanOrEqual(3);
  });

  for (const order of ['asc', 'desc'] as const) {
    it(`collectPage (${order}): the same page, fetching little more than the page from a dense namespace`, async () => {
      // 5,000 tasks made within ten minutes an hour ago: the first ranges are empty, then one holds them all.
      const dense = [...ids, ...Array.from({ length: 5000 }, () => idAt(Math.floor(now - 3_600_000 - rand() * 600_000)))];
      for (const limit of [1, 20, 100]) {
        for (const after of [undefined, expected(dense, order, 300).at(-1)]) {
          let fetched = 0;
          const { items } = await collectPage({ order, after, now, floorMs }, limit,
            async (r) => dense.filter((id) => inRange(id, r)).length,
            async (r) => { const got = dense.filter((id) => inRange(id, r)); fetched += got.length; return got; });
          const sorted = [...items].sort();
          if (order === 'desc') sorted.reverse();
          expect(sorted.slice(0, limit)).toEqual(expected(dense, order, limit, after));
          expect(fetched).toBeLessThanOrEqual(3 * limit + 100);
        }
      }
    });
  }

  it('renders ranges as visibility clauses', () => {
    expect(rangeClause({ gte: '0190a-1', lt: 'x' })).toEqual(["WorkflowId >= '0190a-1'", "WorkflowId < 'x'"]);
    expect(rangeClause({})).toEqual([]);
  });
});
