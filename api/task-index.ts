// The API's in-memory index of the namespace's tasks, so a listing is a slice of a sorted array instead of a
// visibility search: visibility stays the source of truth (api/tasks.ts loads the index from it once and then asks it,
// about once a second, only for what changed), and a page is cut here by task id (UUIDv7: sorted by creation).
// Pure: no I/O, no clock.

/** What the index needs of a listed task (api/tasks.ts's Task satisfies it). */
export interface IndexedTask {
  task_id: string;
  scope: string;
  entity_id: string;
  status: string;
  completed_at?: string;
}

export interface IndexPageQuery {
  scope?: string;
  entityId?: string;
  /** The exclusive cursor (after_task_id): ids greater (asc) or smaller (desc) than it. */
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** Statuses of a task that has not ended: its listing can still change without a new start or close time. */
const unfinished = new Set(['pending', 'running', 'canceling', 'unknown']);
export const isUnfinished = (t: { status: string }): boolean => unfinished.has(t.status);

/** A list of ids kept in ascending order; ids that arrive out of order mark it for a sort before its next read. */
class SortedIds {
  ids: string[] = [];
  private sorted = true;
  add(id: string): void {
    const last = this.ids.at(-1);
    if (last !== undefined && id < last) this.sorted = false;
    this.ids.push(id);
  }
  read(): string[] {
    if (!this.sorted) {
      this.ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sorted = true;
    }
    return this.ids;
  }
  remove(id: string): void {
    const ids = this.read();
    const i = lowerBound(ids, id);
    if (ids[i] === id) ids.splice(i, 1);
  }
}

/** The first position whose id is ≥ `id`. */
export function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first position whose id is > `id`. */
export function upperBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The lists a task appears in: every task, its scope's, its entity's (with and without the scope). */
function listKeys(t: IndexedTask): string[] {
  return ['*', `s ${t.scope}`, `e ${t.scope} ${t.entity_id}`, `x ${t.entity_id}`];
}

function queryKey(q: { scope?: string; entityId?: string }): string {
  if (q.scope && q.entityId) return `e ${q.scope} ${q.entityId}`;
  if (q.scope) return `s ${q.scope}`;
  if (q.entityId) return `x ${q.entityId}`;
  return '*';
}

export class TaskIndex<T extends IndexedTask> {
  private readonly byId = new Map<string, T>();
  private readonly lists = new Map<string, SortedIds>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** Adds a task or replaces what is known of it (its id, scope and entity never change). */
  upsert(t: T): void {
    const known = this.byId.has(t.task_id);
    this.byId.set(t.task_id, t);
    if (known) return;
    for (const k of listKeys(t)) {
      let list = this.lists.get(k);
      if (!list) this.lists.set(k, (list = new SortedIds()));
      list.add(t.task_id);
    }
  }

  remove(id: string): void {
    const t = this.byId.get(id);
    if (!t) return;
    this.byId.delete(id);
    for (const k of listKeys(t)) this.lists.get(k)?.remove(id);
  }

  /** Ids of tasks not known to have ended. */
  unfinishedIds(): string[] {
    const out: string[] = [];
    for (const [id, t] of this.byId) if (isUnfinished(t)) out.push(id);
    return out;
  }

  /** Forgets tasks that ended before `ms` (Temporal has deleted them past the namespace's retention). */
  pruneEndedBefore(ms: number): number {
    let n = 0;
    for (const [id, t] of this.byId) {
      if (t.completed_at && Date.parse(t.completed_at) < ms) {
        this.remove(id);
        n++;
      }
    }
    return n;
  }

  /** One page: the tasks of the filter, ordered by id, after the cursor, at most `limit`. */
  page(q: IndexPageQuery): T[] {
    const ids = this.lists.get(queryKey(q))?.read() ?? [];
    const out: T[] = [];
    if (q.order === 'asc') {
      for (let i = q.after === undefined ? 0 : upperBound(ids, q.after); i < ids.length && out.length < q.limit; i++) out.push(this.byId.get(ids[i]!)!);
    } else {
      for (let i = (q.after === undefined ? ids.length : lowerBound(ids, q.after)) - 1; i >= 0 && out.length < q.limit; i--) out.push(this.byId.get(ids[i]!)!);
    }
    return out;
  }
}

/**
 * The visibility query that brings what started or closed at or after the watermark (a time of the Temporal
 * server's clock). A running task's status (pending, running, canceling) changes without a new time: the listing
 * asks the execution itself when it shows one (api/tasks.ts).
 */
export function changedSinceQuery(base: string, watermarkMs: number): string {
  const at = new Date(Math.max(0, watermarkMs)).toISOString();
  return `${base} AND (StartTime >= '${at}' OR CloseTime >= '${at}')`;
}
