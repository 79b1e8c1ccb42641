// Task ids are UUIDv7: their first 48 bits are the creation time in ms, so sorting ids sorts tasks by creation.
// Temporal's SQL visibility (the dev server's SQLite) refuses ORDER BY and returns executions by close time, so a
// page of the newest (or oldest) tasks is found by searching id ranges outward from the cursor, each range four
// times wider than the last, until a range brings enough tasks; the ranges cover every id, the last one open-ended.

/** The smallest string any UUIDv7 made in that millisecond sorts at or after: its time prefix (`xxxxxxxx-xxxx`). */
export function uuidv7Prefix(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

/** The creation time of a UUIDv7, or null when the id is not one. */
export function uuidv7Time(id: string): number | null {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7/i.exec(id);
  return m ? parseInt(m[1]! + m[2]!, 16) : null;
}

/** An id range: `gte` ≤ id < `lt`, or after/before a cursor (`gt` / `lt` exclusive); absent bounds are open. */
export interface IdRange { gt?: string; gte?: string; lt?: string }

/** A range to search, with the times of its edge nearest the cursor and of its far edge (0 or ∞ when open). */
export interface SearchWindow { range: IdRange; nearMs: number; farMs: number }

export interface WindowOptions {
  order: 'asc' | 'desc';
  /** The exclusive cursor (after_task_id), if any. */
  after?: string;
  now: number;
  /** Older than this, ranges stop growing and one open range takes the rest (the namespace's retention). */
  floorMs: number;
  firstSpanMs?: number;
}

/** The ranges to search in order, nearest the cursor (or the newest/oldest end) first; together they cover every id. */
export function* searchWindows(o: WindowOptions): Generator<SearchWindow> {
  let span = o.firstSpanMs ?? 60_000;
  const cursorMs = o.after ? uuidv7Time(o.after) : null;
  if (o.order === 'desc') {
    let upper: IdRange = o.after ? { lt: o.after } : {};
    let upperMs = cursorMs ?? o.now;
    for (;;) {
      const lowerMs = upperMs - span;
      if (lowerMs < o.floorMs) { yield { range: upper, nearMs: upperMs, farMs: 0 }; return; }
      const lower = uuidv7Prefix(lowerMs);
      yield { range: { ...upper, gte: lower }, nearMs: upperMs, farMs: lowerMs };
      upper = { lt: lower };
      upperMs = lowerMs;
      span *= 4;
    }
  }
  let lower: IdRange;
  let lowerMs: number;
  if (o.after) {
    lower = { gt: o.after };
    lowerMs = cursorMs ?? o.now;
  } else {
    lowerMs = o.floorMs;
    const first = uuidv7Prefix(lowerMs);
    yield { range: { lt: first }, nearMs: 0, farMs: lowerMs }; // older than the retention: running tasks, usually none
    lower = { gte: first };
  }
  for (;;) {
    const upperMs = lowerMs + span;
    if (upperMs > o.now) { yield { range: lower, nearMs: lowerMs, farMs: Number.MAX_SAFE_INTEGER }; return; }
    const upper = uuidv7Prefix(upperMs);
    yield { range: { ...lower, lt: upper }, nearMs: lowerMs, farMs: upperMs };
    lower = { gte: upper };
    lowerMs = upperMs;
    span *= 4;
  }
}

/** The window with its far edge moved to `ms` (closer to the near edge: fewer ids). */
export function withFarEdge(w: SearchWindow, order: 'asc' | 'desc', ms: number): SearchWindow {
  const edge = uuidv7Prefix(ms);
  return { range: order === 'desc' ? { ...w.range, gte: edge } : { ...w.range, lt: edge }, nearMs: w.nearMs, farMs: ms };
}

/**
 * The `limit` ids nearest the cursor, found range by range: each range is counted first, and one holding far more
 * than still needed is narrowed (its far edge bisected in time toward the near edge while it still holds enough)
 * before it is fetched. Returns what was fetched (sorted by the caller) and the far edge time of the last range.
 */
export async function collectPage<T>(o: WindowOptions, limit: number, count: (r: IdRange) => Promise<number>, fetch: (r: IdRange) => Promise<T[]>): Promise<{ items: T[]; farMs: number | null }> {
  const items: T[] = [];
  for (let w of searchWindows(o)) {
    const need = limit - items.length;
    let c = await count(w.range);
    if (c === 0) continue;
    const open = w.farMs === 0 || w.farMs === Number.MAX_SAFE_INTEGER;
    let lo = open ? (o.order === 'desc' ? o.floorMs : o.now) : w.farMs;
    let hi = w.nearMs;
    for (let i = 0; c > 2 * need + 50 && Math.abs(hi - lo) > 1 && i < 24; i++) {
      const mid = Math.floor((lo + hi) / 2);
      const narrower = withFarEdge(w, o.order, mid);
      const n = await count(narrower.range);
      if (n >= need) { w = narrower; c = n; lo = mid; } else hi = mid;
    }
    items.push(...(await fetch(w.range)));
    if (items.length >= limit) return { items, farMs: w.farMs };
  }
  return { items, farMs: null };
}

/** The visibility-query clause of a range (ids are validated identifiers or UUIDs before they reach a query). */
export function rangeClause(r: IdRange): string[] {
  return [
    ...(r.gt ? [`WorkflowId > '${r.gt}'`] : []),
    ...(r.gte ? [`WorkflowId >= '${r.gte}'`] : []),
    ...(r.lt ? [`WorkflowId < '${r.lt}'`] : []),
  ];
}
