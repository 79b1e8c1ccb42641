// GET …/tasks/{id}/log?follow=true: the task log as server-sent events while the task runs. Each entry is one
// `entry` event whose `id` is the entry id polling uses (after_entry_id / last_entry_id) and whose data is the entry
// exactly as polling returns it; the stream ends with one `end` event once the task has ended and every entry is
// out. Entries come from the same rendering of the workflow history as polling (api/task-log.ts), read again every
// `pollMs`, so a follower and a poller see the same entries with the same ids. A reconnecting EventSource sends
// Last-Event-ID, and the stream resumes after it.
import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { pageTaskLog } from './task-log.js';
import { getTask, getTaskLog, type TaskStatus } from './tasks.js';

const ended: TaskStatus[] = ['completed', 'failed', 'canceled'];

export interface FollowOptions {
  client: Client;
  taskId: string;
  entity: { scope: 'database' | 'host'; entityId: string };
  afterEntryId?: string;
  pollMs?: number;
}

/** Checks the task exists first (a 404 is an ordinary error response), then streams. */
export async function followTaskLog(c: Context, o: FollowOptions): Promise<Response> {
  await getTask(o.client, o.taskId, o.entity);
  let after = c.req.header('last-event-id') || o.afterEntryId;
  return streamSSE(c, async (stream) => {
    let closed = false;
    stream.onAbort(() => { closed = true; });
    while (!closed) {
      // Status before log: when the status says ended, the log read after it holds the last entry.
      const { status } = await getTask(o.client, o.taskId, o.entity);
      const { entries } = pageTaskLog(await getTaskLog(o.client, o.taskId), after);
      for (const { id, ...entry } of entries) {
        await stream.writeSSE({ event: 'entry', id, data: JSON.stringify(entry) });
        after = id;
      }
      if (ended.includes(status)) {
        await stream.writeSSE({ event: 'end', data: JSON.stringify({ task_status: status, ...(after ? { last_entry_id: after } : {}) }) });
        return;
      }
      await stream.sleep(o.pollMs ?? 500);
    }
  });
}
