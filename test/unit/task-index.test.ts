import { describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { changedSinceQuery, isUnfinished, lowerBound, TaskIndex, upperBound, type IndexedTask } from '../../api/task-index.js';

interface T extends IndexedTask { n: number }

let seed = 11;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
/** A UUIDv7 made at `ms`. */
const idAt = (ms: number) => { const hex = ms.toString(16).padStart(12, '0'); return `${hex.slice(0, 8)}-${hex.slice(8, 12)}${uuidv7().slice(13)}`; };

const now = Date.UTC(2026, 11, 6, 12);
const tasks: T[] = Array.from({ length: 500 }, (_, n) => ({
  task_id: idAt(Math.floor(now - rand() * 86_400_000)),
  scope: n % 7 === 0 ? 'host' : 'database',
  entity_id: n % 7 === 0 ? `host-${n % 3}` : `db-${n % 5}`,
  status: n % 10 === 0 ? 'running' : 'completed',
  ...(n % 10 === 0 ? {} : { completed_at: new Date(now - n * 60_000).toISOString() }),
  n,
}));

/** What the listing must answer: the filter's tasks sorted by id, after the cursor, cut at the limit. */
function expected(all: T[], q: { scope?: string; entityId?: string; after?: string; limit: number; order: 'asc' | 'desc' }): string[] {
  const ids = all.filter((t) => (!q.scope || t.scope === q.scope) && (!q.entityId || t.entity_id === q.entityId)).map((t) => t.task_id).sort();
  if (q.order === 'desc') ids.reverse();
  return ids.filter((id) => q.after === undefined || (q.order === 'asc' ? id > q.after : id < q.after)).slice(0, q.limit);
}

describe('task index', () => {
  const index = new TaskIndex<T>();
  // in the order visibility returns them (by close time), not by id
  for (const t of [...tasks].sort((a, b) => a.n - b.n)) index.upsert(t);

  it('pages every filter in both orders exactly as a full sort would, with and without a cursor', () => {
    const filters = [{}, { scope: 'database' }, { scope: 'host' }, { scope: 'database', entityId: 'db-2' }, { scope: 'host', entityId: 'host-1' }, { entityId: 'db-3' }, { scope: 'database', entityId: 'nope' }];
    for (const f of filters) {
      for (const order of ['asc', 'desc'] as const) {
        for (const limit of [1, 7, 100, 1000]) {
          const firstPage = expected(tasks, { ...f, limit: 30, order });
          // cursors: ids in the list, and ids not in it (a time prefix, ids before and after every task)
          for (const after of [undefined, ...firstPage.slice(0, 3), firstPage.at(-1), idAt(now - 43_200_000).slice(0, 13), '0', 'z']) {
            expect(index.page({ ...f, after, limit, order }).map((t) => t.task_id)).toEqual(expected(tasks, { ...f, after, limit, order }));
          }
        }
      }
    }
  });

  it('walks the whole list page by page with the last id as the cursor', () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = index.page({ scope: 'database', after, limit: 13, order });
        if (page.length === 0) break;
        seen.push(...page.map((t) => t.task_id));
        after = page.at(-1)!.task_id;
      }
      expect(seen).toEqual(expected(tasks, { scope: 'database', limit: 10_000, order }));
    }
  });

  it('replaces a task in place when it changes, and lists one added later in its place', () => {
    const copy = new TaskIndex<T>();
    for (const t of tasks) copy.upsert(t);
    const running = tasks.find((t) => t.status === 'running')!;
    copy.upsert({ ...running, status: 'completed', completed_at: new Date(now).toISOString() });
    expect(copy.get(running.task_id)!.status).toBe('completed');
    expect(copy.size).toBe(tasks.length);
    const newest = { task_id: idAt(now + 1000), scope: 'database', entity_id: 'db-1', status: 'pending', n: -1 };
    const older = { task_id: idAt(now - 2 * 86_400_000), scope: 'database', entity_id: 'db-1', status: 'completed', n: -2 };
    copy.upsert(newest);
    copy.upsert(older);
    const all = [...tasks, newest, older];
    expect(copy.page({ scope: 'database', entityId: 'db-1', limit: 1000, order: 'desc' }).map((t) => t.task_id)).toEqual(expected(all, { scope: 'database', entityId: 'db-1', limit: 1000, order: 'desc' }));
    expect(copy.page({ limit: 1, order: 'desc' })[0]!.task_id).toBe(newest.task_id);
    expect(copy.page({ limit: 1, order: 'asc' })[0]!.task_id).toBe(older.task_id);
  });

  it('knows which tasks have not ended, forgets removed ones and those past the retention', () => {
    const copy = new TaskIndex<T>();
    for (const t of tasks) copy.upsert(t);
    expect(copy.unfinishedIds().sort()).toEqual(tasks.filter((t) => isUnfinished(t)).map((t) => t.task_id).sort());
    const gone = tasks[3]!;
    copy.remove(gone.task_id);
    expect(copy.get(gone.task_id)).toBeUndefined();
    expect(copy.page({ limit: 1000, order: 'asc' }).map((t) => t.task_id)).not.toContain(gone.task_id);
    const cut = now - 100 * 60_000; // tasks 101… ended before it
    const pruned = copy.pruneEndedBefore(cut);
    const kept = tasks.filter((t) => t !== gone && !(t.completed_at && Date.parse(t.completed_at) < cut));
    expect(pruned).toBe(tasks.length - 1 - kept.length);
    expect(copy.page({ scope: 'database', limit: 1000, order: 'desc' }).map((t) => t.task_id)).toEqual(expected(kept, { scope: 'database', limit: 1000, order: 'desc' }));
  });

  it('binary searches find the first id at or after, and after, a key', () => {
    const ids = ['a', 'b', 'b', 'd'];
    expect([lowerBound(ids, 'b'), upperBound(ids, 'b'), lowerBound(ids, 'c'), upperBound(ids, 'c'), lowerBound(ids, '0'), upperBound(ids, 'z')]).toEqual([1, 3, 3, 3, 0, 4]);
  });

  it('asks visibility for tasks started or closed since the watermark', () => {
    expect(changedSinceQuery('TaskScope IS NOT NULL', Date.UTC(2026, 11, 6, 18, 7, 0, 123)))
      .toBe("TaskScope IS NOT NULL AND (StartTime >= '2026-12-06T18:07:00.123Z' OR CloseTime >= '2026-12-06T18:07:00.123Z')");
  });
});
