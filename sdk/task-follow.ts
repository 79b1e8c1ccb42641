// Following a task: the log streamed as server-sent events (GET …/log?follow=true), parsed with eventsource-parser,
// and waitForTask on top of it — reconnecting after the last entry seen when the stream drops, so no entry is
// shown twice or lost — ending with the task as GET …/tasks/{id} returns it.
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { Client } from 'openapi-fetch';
import type { PgcpClient, Task, TaskLogEntry } from './client.js';
import { PgcpApiError, PgcpTaskError, toPgcpError } from './errors.js';
import type { paths } from './schema.js';

export interface FollowOptions {
  signal?: AbortSignal;
  /** Start after this entry (an entry id from an earlier read); default: from the first entry. */
  afterEntryId?: string;
}

export interface FollowedEntry { id: string; entry: TaskLogEntry }
export interface FollowEnd { task_status: Task['status']; last_entry_id?: string }

export async function* followTaskLog(api: Client<paths>, databaseId: string, taskId: string, o: FollowOptions = {}): AsyncGenerator<FollowedEntry, FollowEnd> {
  const { response, error } = await api.GET('/v1/databases/{database_id}/tasks/{task_id}/log', {
    params: { path: { database_id: databaseId, task_id: taskId }, query: { follow: 'true', ...(o.afterEntryId ? { after_entry_id: o.afterEntryId } : {}) } },
    headers: { accept: 'text/event-stream' },
    parseAs: 'stream',
    signal: o.signal,
  });
  if (!response.ok || !response.body) throw toPgcpError(response.status, error);
  // The signal also ends a read in progress (a fetch that ignores it, e.g. an in-process app, still stops).
  const events = response.body.pipeThrough(new TextDecoderStream(), { signal: o.signal }).pipeThrough(new EventSourceParserStream());
  for await (const ev of events) {
    if (ev.event === 'entry' && ev.id) yield { id: ev.id, entry: JSON.parse(ev.data) as TaskLogEntry };
    else if (ev.event === 'end') return JSON.parse(ev.data) as FollowEnd;
  }
  throw new Error(`the log stream of task ${taskId} closed before the task ended`);
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called with each log entry as it happens (progress). */
  onEntry?: (entry: TaskLogEntry, id: string) => void;
  /** How many times a dropped stream is resumed (default 5). */
  reconnects?: number;
}

export async function waitForTask(client: Pick<PgcpClient, 'api' | 'getTask'>, databaseId: string, taskId: string, o: WaitOptions = {}): Promise<Task> {
  let after: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const stream = followTaskLog(client.api, databaseId, taskId, { signal: o.signal, afterEntryId: after });
      for (let r = await stream.next(); !r.done; r = await stream.next()) {
        after = r.value.id;
        o.onEntry?.(r.value.entry, r.value.id);
      }
      break;
    } catch (err) {
      const refused = err instanceof PgcpApiError && err.status < 500;
      if (o.signal?.aborted || refused || attempt >= (o.reconnects ?? 5)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 5000)));
    }
  }
  const task = await client.getTask(databaseId, taskId);
  if (task.status === 'failed' || task.status === 'canceled') throw new PgcpTaskError(task);
  return task;
}
