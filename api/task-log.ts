// Pure: a workflow history → the pgEdge task log. Each entry gets a UUIDv7 id built from its (monotonic) time,
// the event id and its index within the event, so ids are stable across reads and sort in log order: polling with
// after_entry_id=<last_entry_id> (and no limit) never repeats or skips an entry. `limit` keeps the newest entries
// of a page, as the reference's does, so a poller that uses it may skip older ones.
import { defaultPayloadConverter } from '@temporalio/common';
import type { google, temporal } from '@temporalio/proto';
import { redactSecrets } from '../workflows/model/redact.js';
import { rfc3339 } from './render/time.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

export interface TaskLogEntry { id: string; timestamp: string; message: string; fields?: Record<string, unknown> }

/** UUIDv7 from a millisecond time and a 62-bit sequence (event id × 64 + index). */
export function entryId(ms: number, eventId: number, index: number): string {
  const time = ms.toString(16).padStart(12, '0');
  const seq = BigInt(eventId) * 64n + BigInt(index);
  const randA = (seq >> 62n) & 0xfffn;
  const randB = seq & ((1n << 62n) - 1n);
  const hex = `${time}7${randA.toString(16).padStart(3, '0')}${((2n << 62n) | randB).toString(16).padStart(16, '0')}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export { redactSecrets };

function decode(p: Payload | null | undefined): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p as never);
  } catch {
    return undefined;
  }
}

function ms(ts: google.protobuf.ITimestamp | null | undefined): number {
  if (!ts) return 0;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function failureText(f: temporal.api.failure.v1.IFailure | null | undefined): string {
  let cur = f;
  let text = cur?.message ?? 'unknown error';
  // ActivityFailure / ChildWorkflowFailure wrap the real error in `cause`.
  while (cur?.cause) { cur = cur.cause; if (cur.message) text = cur.message; }
  return redactSecrets(text);
}

const hostOf = (queue: string | null | undefined) => (queue?.startsWith('host.') ? queue.slice(5) : undefined);

interface Scheduled { summary: string; hostId?: string; at: number }

/** Control-plane activities without a summary: what each says in the log (null = not worth a line). */
function controlPlaneLine(type: string, input: unknown): string | string[] | null {
  const arg = (input ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'recordPlan': return (arg.lines as string[] | undefined) ?? [];
    case 'setDatabaseState': return `database state: ${String(arg.state)}`;
    case 'clearNodeDcs': return `clearing the Patroni keys of node${(arg.nodeNames as string[] | undefined)?.length === 1 ? '' : 's'} ${((arg.nodeNames as string[] | undefined) ?? []).join(', ')}`;
    case 'releaseLeaderKey': return `releasing node ${String(arg.nodeName)}'s Patroni leader key if ${String(arg.member)} still holds it, so its replicas elect a new primary now`;
    case 'markNodesJoined': return `recording ${((arg.nodeNames as string[] | undefined) ?? []).join(', ')} as replicating`;
    case 'forgetInstanceRecords': return `forgetting the record of ${((arg.instanceIds as string[] | undefined) ?? []).join(', ')}`;
    case 'forgetNodeRecords': return `forgetting node ${String(arg.nodeName)}'s instance records`;
    case 'removeDatabaseRecord': return 'removing the database record';
    default: return null;
  }
}

export function renderTaskLog(events: HistoryEvent[]): TaskLogEntry[] {
  const out: TaskLogEntry[] = [];
  const scheduled = new Map<number, Scheduled>();
  let last = 0;
  for (const e of events) {
    const eventId = Number(e.eventId ?? 0);
    last = Math.max(last, ms(e.eventTime));
    let index = 0;
    const push = (message: string, fields?: Record<string, unknown>) => {
      out.push({ id: entryId(last, eventId, index++), timestamp: rfc3339(new Date(last)), message: redactSecrets(message), ...(fields ? { fields } : {}) });
    };
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      const summary = decode(e.userMetadata?.summary);
      const type = a.activityType?.name ?? 'activity';
      const hostId = hostOf(a.taskQueue?.name);
      if (typeof summary === 'string') {
        scheduled.set(eventId, { summary, hostId, at: last });
        push(summary, hostId ? { host_id: hostId } : undefined);
      } else {
        const line = controlPlaneLine(type, decode(a.input?.payloads?.[0]));
        for (const l of Array.isArray(line) ? line : line ? [line] : []) push(l);
      }
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const s = scheduled.get(Number(done.scheduledEventId ?? 0));
      // A step's own output (pgBackRest's), when it returns some: one entry per line, before its end.
      const result = decode(done.result?.payloads?.[0]) as { lines?: unknown } | undefined;
      if (s && Array.isArray(result?.lines)) for (const l of result.lines) if (typeof l === 'string') push(l, { output: true, ...(s.hostId ? { host_id: s.hostId } : {}) });
      if (s) push(`finished ${s.summary} (took ${((last - s.at) / 1000).toFixed(1)}s)`, { duration_ms: last - s.at, success: true, ...(s.hostId ? { host_id: s.hostId } : {}) });
      continue;
    }
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) {
      const s = scheduled.get(Number(failed.scheduledEventId ?? 0));
      const error = failureText(failed.failure);
      push(`error while ${s?.summary ?? 'running a step'}: ${error}`, { success: false, error, ...(s ? { duration_ms: last - s.at } : {}), ...(s?.hostId ? { host_id: s.hostId } : {}) });
      continue;
    }
    const timedOut = e.activityTaskTimedOutEventAttributes;
    if (timedOut) {
      const s = scheduled.get(Number(timedOut.scheduledEventId ?? 0));
      push(`timed out: ${s?.summary ?? 'a step'}`, { success: false });
      continue;
    }
    const canceledStep = e.activityTaskCanceledEventAttributes;
    if (canceledStep) {
      const s = scheduled.get(Number(canceledStep.scheduledEventId ?? 0));
      if (s) push(`canceled: ${s.summary}`, { success: false });
      continue;
    }
    if (e.timerStartedEventAttributes) {
      const summary = decode(e.userMetadata?.summary);
      if (typeof summary === 'string') push(summary);
      continue;
    }
    if (e.workflowExecutionStartedEventAttributes) push('task started');
    else if (e.workflowExecutionCancelRequestedEventAttributes) push('task is canceling', { status: 'canceling' });
    else if (e.workflowExecutionCompletedEventAttributes) push('task completed', { status: 'completed' });
    else if (e.workflowExecutionFailedEventAttributes) {
      const error = failureText(e.workflowExecutionFailedEventAttributes.failure);
      push(`task failed: ${error}`, { status: 'failed', error });
    } else if (e.workflowExecutionCanceledEventAttributes) push('task successfully canceled', { status: 'canceled' });
    else if (e.workflowExecutionTerminatedEventAttributes) push(`task terminated: ${e.workflowExecutionTerminatedEventAttributes.reason ?? ''}`.trim(), { status: 'failed' });
    else if (e.workflowExecutionTimedOutEventAttributes) push('task timed out', { status: 'failed' });
  }
  return out;
}

/** pgEdge's paging: entries after `afterEntryId`, then the newest `limit` of them, oldest first. */
export function pageTaskLog(entries: TaskLogEntry[], afterEntryId?: string, limit?: number): { entries: TaskLogEntry[]; lastEntryId?: string } {
  const after = afterEntryId ? entries.filter((e) => e.id > afterEntryId) : entries;
  const page = limit && limit > 0 ? after.slice(-limit) : after;
  return { entries: page, lastEntryId: entries.at(-1)?.id };
}
