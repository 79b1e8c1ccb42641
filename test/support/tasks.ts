// Waiting for tasks through the API, as a client does: poll GET …/tasks/{id} until the task has ended.
import { expect } from 'vitest';
import type { ApiResponse } from './api-client.js';
import { waitFor } from './wait.js';

/** What waiting for a task needs of a client: the status and the parsed body. */
type ApiCall = (method: string, path: string, body?: unknown) => Promise<Pick<ApiResponse, 'status' | 'body'>>;

export const endedStatuses = ['completed', 'failed', 'canceled'];

/** The task as the API shows it once it has ended (completed, failed or canceled). */
export async function waitForTask(call: ApiCall, databaseId: string, taskId: string, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<any> {
  return waitFor(`task ${taskId}`, async () => {
    const r = await call('GET', `/v1/databases/${databaseId}/tasks/${taskId}`);
    return endedStatuses.includes(r.body.status) ? r.body : null;
  }, o.timeoutMs ?? 300_000, o.intervalMs ?? 1000);
}

/** Waits for the task and fails the test, with the task's error, unless it completed. */
export async function expectTaskCompleted(call: ApiCall, databaseId: string, taskId: string, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<any> {
  const task = await waitForTask(call, databaseId, taskId, o);
  expect(task.status, task.error).toBe('completed');
  return task;
}

/** Cleanup after a file: force-deletes the database if it exists and waits for that task, ignoring its outcome. */
export async function forceDeleteDatabase(call: ApiCall, databaseId: string): Promise<void> {
  const del = await call('DELETE', `/v1/databases/${databaseId}?force=true`);
  if (del.status === 200) await waitForTask(call, databaseId, del.body.task.task_id).catch(() => undefined);
}
