import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { entryId, pageTaskLog, renderTaskLog, type TaskLogEntry } from '../../api/task-log.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const uuidv7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const t0 = 1_764_000_000; // seconds
const payload = (v: unknown) => defaultPayloadConverter.toPayload(v);

/** A history event as the Temporal client returns it (eventId and seconds are Longs there; numbers behave the same). */
const ev = (eventId: number, ms: number, attrs: Record<string, unknown>): HistoryEvent =>
  ({ eventId, eventTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 }, ...attrs }) as unknown as HistoryEvent;
const at = (offsetMs: number) => t0 * 1000 + offsetMs;
const scheduled = (eventId: number, ms: number, type: string, o: { summary?: string; host?: string; input?: unknown }) =>
  ev(eventId, ms, {
    activityTaskScheduledEventAttributes: {
      activityType: { name: type },
      taskQueue: { name: o.host ? `host.${o.host}` : 'control-plane' },
      input: { payloads: o.input === undefined ? [] : [payload(o.input)] },
    },
    ...(o.summary ? { userMetadata: { summary: payload(o.summary) } } : {}),
  });
const messages = (entries: TaskLogEntry[]) => entries.map((e) => e.message);

describe('renderTaskLog', () => {
  const log = renderTaskLog([
    ev(1, at(0), { workflowExecutionStartedEventAttributes: {} }),
    scheduled(5, at(100), 'recordPlan', { input: { lines: ['plan: 1 steps in 1 phases', 'phase 1: creating the database network on host-1'] } }),
    scheduled(7, at(200), 'createNetwork', { summary: 'creating the database network on host-1', host: 'host-1' }),
    ev(9, at(1700), { activityTaskCompletedEventAttributes: { scheduledEventId: 7 } }),
    scheduled(11, at(2000), 'createInstance', { summary: 'creating instance i1 (node n1) on host-2', host: 'host-2' }),
    ev(13, at(2500), { activityTaskFailedEventAttributes: { scheduledEventId: 11, failure: { message: 'activity failed', cause: { message: "could not connect: password='it\\'s secret' host=x" } } } }),
    ev(15, at(3000), { workflowExecutionCancelRequestedEventAttributes: {} }),
    ev(16, at(3000), { workflowExecutionCanceledEventAttributes: {} }),
  ]);

  it('tells the story of the task in order', () => {
    expect(messages(log)).toEqual([
      'task started',
      'plan: 1 steps in 1 phases',
      'phase 1: creating the database network on host-1',
      'creating the database network on host-1',
      'finished creating the database network on host-1 (took 1.5s)',
      'creating instance i1 (node n1) on host-2',
      "error while creating instance i1 (node n1) on host-2: could not connect: password=[redacted] host=x",
      'task is canceling',
      'task successfully canceled',
    ]);
  });

  it('gives a scheduled step its host and a finished one its duration', () => {
    expect(log[3]!.fields).toEqual({ host_id: 'host-1' });
    expect(log[4]!.fields).toEqual({ duration_ms: 1500, success: true, host_id: 'host-1' });
  });

  it('reports a failed step with the innermost error, password removed', () => {
    expect(log[6]!.fields).toEqual({ success: false, error: 'could not connect: password=[redacted] host=x', duration_ms: 500, host_id: 'host-2' });
    expect(JSON.stringify(log)).not.toContain('secret');
  });

  it('marks cancellation with a status field', () => {
    expect(log[7]!.fields).toEqual({ status: 'canceling' });
    expect(log[8]!.fields).toEqual({ status: 'canceled' });
  });

  it('stamps entries with RFC 3339 times of their events', () => {
    expect(log[0]!.timestamp).toBe(new Date(at(0)).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(log[4]!.timestamp).toBe(new Date(at(1700)).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  it('ids are UUIDv7 carrying the event time', () => {
    for (const e of log) expect(e.id).toMatch(uuidv7);
    expect(parseInt(log[4]!.id.replace(/-/g, '').slice(0, 12), 16)).toBe(at(1700));
  });

  it('ids strictly increase in log order', () => {
    const ids = log.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is the same on every read', () => {
    expect(renderTaskLog([ev(1, at(0), { workflowExecutionStartedEventAttributes: {} })])[0]!.id).toBe(log[0]!.id);
  });
});

describe('renderTaskLog terminal and other entries', () => {
  const one = (attrs: Record<string, unknown>) => renderTaskLog([ev(3, at(0), attrs)]);

  it.each([
    [{ workflowExecutionCompletedEventAttributes: {} }, 'task completed', { status: 'completed' }],
    [{ workflowExecutionFailedEventAttributes: { failure: { message: 'boom' } } }, 'task failed: boom', { status: 'failed', error: 'boom' }],
    [{ workflowExecutionTerminatedEventAttributes: { reason: 'operator' } }, 'task terminated: operator', { status: 'failed' }],
    [{ workflowExecutionTimedOutEventAttributes: {} }, 'task timed out', { status: 'failed' }],
  ])('%o renders %s', (attrs, message, fields) => {
    expect(one(attrs)).toEqual([expect.objectContaining({ message, fields })]);
  });

  it('says a step timed out or was canceled', () => {
    const base = scheduled(1, at(0), 'x', { summary: 'doing x' });
    expect(messages(renderTaskLog([base, ev(2, at(10), { activityTaskTimedOutEventAttributes: { scheduledEventId: 1 } })]))).toEqual(['doing x', 'timed out: doing x']);
    expect(messages(renderTaskLog([base, ev(2, at(10), { activityTaskCanceledEventAttributes: { scheduledEventId: 1 } })]))).toEqual(['doing x', 'canceled: doing x']);
  });

  it('names control-plane steps without a summary, and skips the rest', () => {
    const log = renderTaskLog([
      scheduled(1, at(0), 'setDatabaseState', { input: { state: 'available' } }),
      scheduled(2, at(0), 'readSomething', { input: { x: 1 } }),
      scheduled(3, at(0), 'removeDatabaseRecord', {}),
    ]);
    expect(messages(log)).toEqual(['database state: available', 'removing the database record']);
  });
});

describe('entry ids when time does not move forward', () => {
  it('still strictly increase when event times are equal or go backwards', () => {
    const log = renderTaskLog([
      ev(1, at(5000), { workflowExecutionStartedEventAttributes: {} }),
      scheduled(2, at(5000), 'recordPlan', { input: { lines: ['a', 'b', 'c'] } }),
      ev(3, at(4000), { workflowExecutionCancelRequestedEventAttributes: {} }),
      ev(4, at(3000), { workflowExecutionCanceledEventAttributes: {} }),
    ]);
    const ids = log.map((e) => e.id);
    expect(ids).toHaveLength(6);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(log.map((e) => e.timestamp)).size).toBe(1);
  });

  it('entryId orders by time first, then event, then index', () => {
    expect(entryId(2, 1, 0) > entryId(1, 99, 63)).toBe(true);
    expect(entryId(1, 2, 0) > entryId(1, 1, 63)).toBe(true);
    expect(entryId(1, 1, 1) > entryId(1, 1, 0)).toBe(true);
  });
});

describe('pageTaskLog', () => {
  const entries: TaskLogEntry[] = [1, 2, 3, 4, 5].map((n) => ({ id: entryId(at(n), n, 0), timestamp: '', message: `m${n}` }));

  it('returns everything without paging arguments', () => {
    expect(pageTaskLog(entries)).toEqual({ entries, lastEntryId: entries[4]!.id });
  });

  it('returns entries strictly after after_entry_id', () => {
    expect(messages(pageTaskLog(entries, entries[1]!.id).entries)).toEqual(['m3', 'm4', 'm5']);
    expect(pageTaskLog(entries, entries[4]!.id).entries).toEqual([]);
  });

  it('limit keeps the newest N, oldest first', () => {
    expect(messages(pageTaskLog(entries, undefined, 2).entries)).toEqual(['m4', 'm5']);
    expect(messages(pageTaskLog(entries, entries[0]!.id, 3).entries)).toEqual(['m3', 'm4', 'm5']);
  });

  it('last_entry_id is the newest entry overall, whatever the page', () => {
    expect(pageTaskLog(entries, entries[0]!.id, 1).lastEntryId).toBe(entries[4]!.id);
    expect(pageTaskLog(entries, entries[4]!.id).lastEntryId).toBe(entries[4]!.id);
    expect(pageTaskLog([]).lastEntryId).toBeUndefined();
  });
});
