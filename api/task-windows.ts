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
export function* searchWindows(o: WindowOptions): Generator<IdRange> {
  let span = o.firstSpanMs ?? 60_000;
  const cursorMs = o.after ? uuidv7Time(o.after) : null;
  if (o.order === 'desc') {
    let upper: IdRange = o.after ? { lt: o.after } : {};
    let upperMs = cursorMs ?? o.now;
    for (;;) {
      const lowerMs = upperMs - span;
      if (lowerMs < o.floorMs) { yield upper; return; }
      const lower = uuidv7Prefix(lowerMs);
      yield { ...upper, gte: lower };
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
    yield { lt: first }; // older than the retention: running tasks, usually none
    lower = { gte: first };
  }
  for (;;) {
    const upperMs = lowerMs + span;
    if (upperMs > o.now) { yield lower; return; }
    const upper = uuidv7Prefix(upperMs);
    yield { ...lower, lt: upper };
    lower = { gte: upper };
    lowerMs = upperMs;
    span *= 4;
  }
}

/** The visibility-query clause of a range (ids are validated identifiers or UUIDs before they reach a query). */
export function rangeClause(r: IdRange): string[] {
  return [
    ...(r.gt ? [`WorkflowId > '${r.gt}'`] : []),
    ...(r.gte ? [`WorkflowId >= '${r.gte}'`] : []),
    ...(r.lt ? [`WorkflowId < '${r.lt}'`] : []),
  ];
}
