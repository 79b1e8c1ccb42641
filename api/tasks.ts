// Tasks are Temporal workflows: the task id is the workflow id (UUIDv7), task metadata lives in search attributes,
// status comes from the execution and the log from its history. Nothing about tasks is stored elsewhere.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { LRUCache } from 'lru-cache';
import { uuidv7 } from 'uuidv7';
import type * as workflows from '../workflows/index.js';
import { retentionDays } from '../platform/temporal.js';
import { decodeHistoryPayloads } from '../platform/payload-codec.js';
import { hostTaskSearchAttributes, taskAttributes, taskMemo, taskQueues, taskSearchAttributes, type DatabaseTaskMeta, type TaskType } from '../workflows/model/search-attributes.js';
import { ApiError } from './errors.js';
import { maxListLimit } from './schemas/database.js';
import { rfc3339 } from './render/time.js';
import { collectPage, rangeClause, type IdRange } from './task-windows.js';
import { redactSecrets, renderTaskLog, type TaskLogEntry } from './task-log.js';

export type { TaskType };
export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'canceling' | 'canceled' | 'unknown';

export interface Task {
  scope: 'database' | 'host';
  entity_id: string;
  database_id?: string;
  host_id?: string;
  node_name?: string;
  instance_id?: string;
  parent_id?: string;
  task_id: string;
  created_at: string;
  completed_at?: string;
  type: TaskType;
  status: TaskStatus;
  error?: string;
}

type Workflows = typeof workflows;
/** The workflow each task type the API starts runs; a name that is not an exported workflow does not compile. */
const workflowOf = {
  create: 'createDatabase', update: 'updateDatabase', upgrade: 'updateDatabase', delete: 'deleteDatabase', switchover: 'switchover', failover: 'failover',
  restart_instance: 'restartInstance', node_backup: 'nodeBackup', restore: 'restoreDatabase', stop_instance: 'stopInstance', start_instance: 'startInstance',
} as const satisfies Partial<Record<TaskType, keyof Workflows>>;
export type StartableTaskType = keyof typeof workflowOf;
type WorkflowOf<T extends StartableTaskType> = Workflows[(typeof workflowOf)[T]];

/** A task to start: its type, the workflow's own input (type-checked against the workflow), and what it is about. */
export type StartTaskInput<T extends StartableTaskType> = Omit<DatabaseTaskMeta, 'type' | 'databaseId'> & {
  type: T;
  input: Parameters<WorkflowOf<T>>[0];
  /** The task id (a UUIDv7) when it was chosen before the start: the database's lock names it (api/database-lock.ts). */
  taskId?: string;
};

export async function startDatabaseTask<T extends StartableTaskType>(client: Client, t: StartTaskInput<T>): Promise<Task> {
  const { type, input, taskId, ...about } = t;
  const meta: DatabaseTaskMeta = { type, databaseId: input.databaseId, ...about };
  const handle = await client.workflow.start<WorkflowOf<T>>(workflowOf[type], {
    workflowId: taskId ?? uuidv7(),
    taskQueue: taskQueues.controlPlane,
    args: [input] as Parameters<WorkflowOf<T>>,
    typedSearchAttributes: taskSearchAttributes(meta),
    staticSummary: `${type} ${meta.databaseId}`,
  });
  recentListings.clear();
  return {
    scope: 'database', entity_id: meta.databaseId, database_id: meta.databaseId,
    ...(meta.hostId ? { host_id: meta.hostId } : {}), ...(meta.nodeName ? { node_name: meta.nodeName } : {}), ...(meta.instanceId ? { instance_id: meta.instanceId } : {}),
    task_id: handle.workflowId, created_at: rfc3339(new Date()), type, status: 'pending',
  };
}

/**
 * Starts remove_host, a host task, with one `update` child task per database (their ids made before, by the caller
 * that locked each database for them, so the answer lists them before they start, as the reference's
 * update_database_tasks).
 */
export async function startRemoveHostTask(client: Client, hostId: string, hostGone: boolean, updates: { databaseId: string; taskId: string }[]): Promise<{ task: Task; updates: Task[] }> {
  const input: Parameters<Workflows['removeHost']>[0] = { hostId, hostGone, updates };
  const handle = await client.workflow.start<Workflows['removeHost']>('removeHost', {
    workflowId: uuidv7(),
    taskQueue: taskQueues.controlPlane,
    args: [input],
    typedSearchAttributes: hostTaskSearchAttributes({ type: 'remove_host', hostId }),
    staticSummary: `remove_host ${hostId}`,
  });
  recentListings.clear();
  const createdAt = rfc3339(new Date());
  return {
    task: { scope: 'host', entity_id: hostId, host_id: hostId, task_id: handle.workflowId, created_at: createdAt, type: 'remove_host', status: 'pending' },
    updates: input.updates.map((u) => ({
      scope: 'database', entity_id: u.databaseId, database_id: u.databaseId, parent_id: handle.workflowId, task_id: u.taskId, created_at: createdAt, type: 'update', status: 'pending',
    })),
  };
}

/**
 * Starts a task for a database the route has just moved to a new state. If anything fails before the workflow
 * exists (`prepare`, or Temporal refusing), `rollBack` puts the database back first, so nothing is left half-done.
 */
export async function startTaskOrRollBack<T extends StartableTaskType>(
  client: Client, t: StartTaskInput<T>, rollBack: () => Promise<unknown>, prepare?: () => Promise<unknown>,
): Promise<Task> {
  try {
    await prepare?.();
    return await startDatabaseTask(client, t);
  } catch (err) {
    await rollBack();
    throw err;
  }
}

/** `started`: a worker has run the workflow at least once (visibility's historyLength is stale while it runs). */
function statusOf(info: Omit<WorkflowExecutionInfo, 'raw'>, cancelRequested: boolean, started: boolean): TaskStatus {
  switch (info.status.name) {
    case 'RUNNING': return cancelRequested ? 'canceling' : started ? 'running' : 'pending';
    case 'COMPLETED': return 'completed';
    case 'CANCELLED': return 'canceled';
    case 'FAILED': case 'TERMINATED': case 'TIMED_OUT': return 'failed';
    default: return 'unknown';
  }
}

/** The task's history with its payloads decoded by the client's codecs (encrypted: platform/payload-codec.ts). */
async function history(client: Client, taskId: string) {
  const events = (await client.workflow.getHandle(taskId).fetchHistory()).events ?? [];
  for (const codec of [...client.workflow.options.loadedDataConverter.payloadCodecs].reverse()) await decodeHistoryPayloads(codec, events);
  return events;
}

/**
 * The task as listed. Only a running task's history is read (to tell pending from running and see a cancel
 * request); a failed task's error is in its memo, written by the task bracket (workflows/task/task-bracket.ts) — the
 * history is read only for tasks that ended without it (terminated, timed out).
 */
async function toTask(client: Client, info: Omit<WorkflowExecutionInfo, 'raw'>): Promise<Task> {
  const attr = (k: (typeof taskAttributes)[keyof typeof taskAttributes]) => info.typedSearchAttributes.get(k);
  const running = info.status.name === 'RUNNING';
  const failed = ['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(info.status.name);
  const memoError = typeof info.memo?.[taskMemo.error] === 'string' ? (info.memo[taskMemo.error] as string) : undefined;
  const events = running || (failed && memoError === undefined) ? await history(client, info.workflowId) : [];
  const cancelRequested = running && events.some((e) => e.workflowExecutionCancelRequestedEventAttributes);
  const scope = (attr(taskAttributes.scope) ?? 'database') as Task['scope'];
  const task: Task = {
    scope,
    entity_id: attr(taskAttributes.entityId) ?? '',
    ...(scope === 'database' ? { database_id: attr(taskAttributes.databaseId) ?? '' } : {}),
    ...(attr(taskAttributes.hostId) || scope === 'host' ? { host_id: attr(taskAttributes.hostId) ?? '' } : {}),
    task_id: info.workflowId,
    created_at: rfc3339(info.startTime),
    type: (attr(taskAttributes.taskType) ?? 'unknown') as TaskType,
    status: statusOf(info, cancelRequested, events.some((e) => e.workflowTaskCompletedEventAttributes)),
  };
  const node = attr(taskAttributes.nodeName);
  const instance = attr(taskAttributes.instanceId);
  const parent = attr(taskAttributes.parentTaskId);
  if (node) task.node_name = node;
  if (instance) task.instance_id = instance;
  if (parent) task.parent_id = parent;
  if (info.closeTime) task.completed_at = rfc3339(info.closeTime);
  if (failed) {
    const last = events.at(-1);
    const f = last?.workflowExecutionFailedEventAttributes?.failure;
    task.error = redactSecrets(memoError ?? f?.message ?? last?.workflowExecutionTerminatedEventAttributes?.reason ?? 'task failed');
  }
  return task;
}

export interface ListTasksQuery { scope?: 'database' | 'host'; entityId?: string; afterTaskId?: string; limit?: number; sortOrder: 'asc' | 'desc' }

/** A page holds at most this many tasks; a request without a limit (≤ 0 or absent: "all" in pgEdge) gets the default. */
export const taskPage = { default: 100, max: maxListLimit } as const;

/** A page of tasks (searchTasks), served from the last answer for the same page when it is recent. */
export async function listTasks(client: Client, q: ListTasksQuery): Promise<Task[]> {
  // Polled listings (UIs, scripts waiting on a task) repeat. A page searched less than a second ago is served as
  // is; one up to five seconds old is served while a fresh search runs behind it (one at a time per page); older
  // ones are searched before answering. A task this process starts or cancels clears every listing.
  const key = JSON.stringify(q);
  const hit = recentListings.get(key);
  const age = hit ? Date.now() - hit.at : Infinity;
  if (hit && age < listingFreshMs) return hit.tasks;
  if (hit && age < listingStaleMs) {
    void recentListings.fetch(key, { context: client, forceRefresh: true }).catch(() => undefined);
    return hit.tasks;
  }
  return (await recentListings.fetch(key, { context: client, forceRefresh: true, allowStale: false }))!.tasks;
}

const listingFreshMs = 1000;
const listingStaleMs = 5000;
const recentListings = new LRUCache<string, { tasks: Task[]; at: number }, Client>({
  max: 500, ttl: listingStaleMs, allowStale: true,
  fetchMethod: async (key, _stale, { context }) => ({ tasks: await searchTasks(context, JSON.parse(key) as ListTasksQuery), at: Date.now() }),
});

/**
 * A page of tasks, filtered, ordered and cut by id ranges in visibility queries (task-windows.ts): each range is
 * counted first; one holding far more than the page is narrowed (its far edge bisected in time) before it is read,
 * so only tasks near the page are fetched however many the namespace holds. `after_task_id` pages on. The far edge
 * of a first page is remembered per listing, so the next request for it starts there (one count, one read).
 */
async function searchTasks(client: Client, q: ListTasksQuery): Promise<Task[]> {
  // Values reach the query only after identifier validation (lowercase letters, digits, hyphens).
  const clauses = [`${taskAttributes.scope.name} IS NOT NULL`];
  if (q.scope) clauses.push(`${taskAttributes.scope.name} = '${q.scope}'`);
  if (q.entityId) clauses.push(`${taskAttributes.entityId.name} = '${q.entityId}'`);
  const limit = Math.min(q.limit && q.limit > 0 ? q.limit : taskPage.default, taskPage.max);
  const queryOf = (r: IdRange) => [...clauses, ...rangeClause(r)].join(' AND ');
  const now = Date.now();
  const floorMs = now - (retentionDays + 1) * 86_400_000;
  const hintKey = `${q.sortOrder} ${clauses.join(' ')}`;
  const hint = q.afterTaskId ? undefined : firstPageEdges.get(hintKey);
  const firstSpanMs = hint === undefined ? undefined : Math.max(60_000, q.sortOrder === 'desc' ? now - hint : hint - floorMs);
  const { items: found, farMs } = await collectPage({ order: q.sortOrder, after: q.afterTaskId, now, floorMs, firstSpanMs }, limit,
    async (r) => (await client.workflow.count(queryOf(r))).count,
    async (r) => {
      const out: WorkflowExecutionInfo[] = [];
      for await (const info of client.workflow.list({ query: queryOf(r), pageSize: taskPage.max })) out.push(info);
      return out;
    });
  if (!q.afterTaskId && farMs !== null) firstPageEdges.set(hintKey, farMs);
  found.sort((a, b) => (q.sortOrder === 'asc' ? a.workflowId.localeCompare(b.workflowId) : b.workflowId.localeCompare(a.workflowId)));
  return Promise.all(found.slice(0, limit).map((i) => toTask(client, i)));
}

/** Per listing (order + filter): the far edge time of its last first page. Only a starting guess: always counted. */
const firstPageEdges = new LRUCache<string, number>({ max: 1000 });

export async function getTask(client: Client, taskId: string, entity: { scope: 'database' | 'host'; entityId: string }): Promise<Task> {
  try {
    const desc = await client.workflow.getHandle(taskId).describe();
    const task = await toTask(client, desc);
    if (task.scope !== entity.scope || task.entity_id !== entity.entityId) throw new ApiError('not_found', 'no task found with the given ID');
    return task;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError('not_found', 'no task found with the given ID');
    throw err;
  }
}

/** Rendered logs of ended tasks, which never change: a log polled after its task ended is not rendered again. */
const endedLogs = new LRUCache<string, TaskLogEntry[]>({ max: 500 });

export async function getTaskLog(client: Client, taskId: string): Promise<TaskLogEntry[]> {
  const cached = endedLogs.get(taskId);
  if (cached) return cached;
  const events = await history(client, taskId);
  const entries = renderTaskLog(events);
  if (events.at(-1) && isCloseEvent(events.at(-1)!)) endedLogs.set(taskId, entries);
  return entries;
}

type HistoryEvent = Awaited<ReturnType<typeof history>>[number];
function isCloseEvent(e: HistoryEvent): boolean {
  return Boolean(e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionCanceledEventAttributes
    || e.workflowExecutionTerminatedEventAttributes || e.workflowExecutionTimedOutEventAttributes || e.workflowExecutionContinuedAsNewEventAttributes);
}

export async function cancelTask(client: Client, task: Task): Promise<Task> {
  if (task.status !== 'pending' && task.status !== 'running') throw new ApiError('invalid_input', 'task must be running or pending to be cancelled');
  await client.workflow.getHandle(task.task_id).cancel();
  recentListings.clear();
  return { ...task, status: 'canceling' };
}
