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
import { changedSinceQuery, isUnfinished, TaskIndex, type IndexPageQuery } from './task-index.js';
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
  const task: Task = {
    scope: 'database', entity_id: meta.databaseId, database_id: meta.databaseId,
    ...(meta.hostId ? { host_id: meta.hostId } : {}), ...(meta.nodeName ? { node_name: meta.nodeName } : {}), ...(meta.instanceId ? { instance_id: meta.instanceId } : {}),
    task_id: handle.workflowId, created_at: rfc3339(new Date()), type, status: 'pending',
  };
  noteTasks(client, [task]);
  return task;
}

/** Tasks this process has just started or cancelled: listed at once (not only after visibility shows the change). */
function noteTasks(client: Client, tasks: Task[]): void {
  recentListings.clear();
  // only into an index that exists: a program starting tasks through pgcp/temporal never loads one
  for (const t of tasks) listings.get(client)?.note(t);
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
  const createdAt = rfc3339(new Date());
  const started: { task: Task; updates: Task[] } = {
    task: { scope: 'host', entity_id: hostId, host_id: hostId, task_id: handle.workflowId, created_at: createdAt, type: 'remove_host', status: 'pending' },
    updates: input.updates.map((u) => ({
      scope: 'database', entity_id: u.databaseId, database_id: u.databaseId, parent_id: handle.workflowId, task_id: u.taskId, created_at: createdAt, type: 'update', status: 'pending',
    })),
  };
  // the updates are children the workflow starts: listed once visibility has them (an id listed before its
  // workflow exists would be described as missing and dropped)
  noteTasks(client, [started.task]);
  return started;
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
async function history(client: Client, taskId: string, decode = true) {
  const events = (await client.workflow.getHandle(taskId).fetchHistory()).events ?? [];
  if (decode) for (const codec of [...client.workflow.options.loadedDataConverter.payloadCodecs].reverse()) await decodeHistoryPayloads(codec, events);
  return events;
}

/**
 * The task as listed. Only a running task's history is read (to tell pending from running and see a cancel
 * request); a failed task's error is in its memo, written by the task bracket (workflows/task/task-bracket.ts) — the
 * history is read only for tasks that ended without it (terminated, timed out). `runningHistory` false: a running
 * task is shown as pending or running by visibility alone (the index asks again before showing it).
 */
async function toTask(client: Client, info: Omit<WorkflowExecutionInfo, 'raw'>, runningHistory = true): Promise<Task> {
  const attr = (k: (typeof taskAttributes)[keyof typeof taskAttributes]) => info.typedSearchAttributes.get(k);
  const running = info.status.name === 'RUNNING';
  const failed = ['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(info.status.name);
  const memoError = typeof info.memo?.[taskMemo.error] === 'string' ? (info.memo[taskMemo.error] as string) : undefined;
  // Only event kinds and failure messages are read here (never payloads): the history is not decoded.
  const events = (running ? runningHistory : failed && memoError === undefined) ? await history(client, info.workflowId, false) : [];
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

/**
 * A page of tasks, cut from the process's index of the namespace's tasks (kept fresh from visibility, below); until
 * the index is loaded (or when the namespace holds too many tasks for one), by id-range visibility searches.
 */
export async function listTasks(client: Client, q: ListTasksQuery): Promise<Task[]> {
  const limit = Math.min(q.limit && q.limit > 0 ? q.limit : taskPage.default, taskPage.max);
  return (await taskListing(client).page({ scope: q.scope, entityId: q.entityId, after: q.afterTaskId, limit, order: q.sortOrder })) ?? searchedPage(client, q);
}

/** A page found by visibility searches (searchTasks), served from the last answer for the same page when it is recent. */
async function searchedPage(client: Client, q: ListTasksQuery): Promise<Task[]> {
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

/** Loads the task index of this client's namespace ahead of the first listing (the API does at start). */
export function warmTaskListing(client: Client): Promise<void> {
  return taskListing(client).settled;
}

const listings = new WeakMap<Client, TaskListing>();
function taskListing(client: Client): TaskListing {
  let l = listings.get(client);
  if (!l) listings.set(client, (l = new TaskListing(client)));
  return l;
}

/** Knobs of the task index (exported for the bench and tests). */
export const taskIndexLimits = {
  /** A namespace holding more tasks than this is listed by visibility searches only. */
  maxTasks: 200_000,
  /** While listings are asked for, the index asks visibility for changes this often… */
  refreshMs: 1000,
  /** …and a listing waits for a refresh when the last one started longer ago than this (an idle index). */
  maxAgeMs: 2000,
  /** The refresh timer stops when nobody listed for this long. */
  idleMs: 30_000,
  /**
   * Changes are asked for since the last refresh began (or the newest start or close time seen, if later), less this:
   * visibility is written a little late, and the server's clock may differ a little from this one.
   */
  lagMs: 10_000,
};

/**
 * The index of one namespace's tasks. Loaded once from visibility (every task, page by page, each decoded once);
 * then, while listings are asked for, refreshed each second by one small visibility query: tasks started or closed
 * since the last refresh (or the newest time seen), less a margin. Ended tasks never change. A task not ended is
 * asked about itself (describe, and its history for pending / running / canceling) when a page shows it and what is
 * known of it is over a second old: in the background while under two seconds old, before answering after that.
 * Tasks this process starts or cancels enter the index at once.
 */
class TaskListing {
  private readonly index = new TaskIndex<Task>();
  private state: 'new' | 'loading' | 'loaded' | 'too-large' = 'new';
  private newestMs = 0;
  private refreshedAt = 0;
  private refreshing: Promise<void> | null = null;
  private askedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryAt = 0;
  private prunedAt = 0;
  /** When each task not ended was last asked about (absent: never, as loaded). */
  private readonly checkedAt = new Map<string, number>();
  private readonly checking = new Map<string, Promise<void>>();
  private settle!: () => void;
  /** Resolves once the index is loaded, or found too large to be (the bench waits for it before measuring). */
  readonly settled = new Promise<void>((r) => { this.settle = r; });

  constructor(private readonly client: Client) {
    this.load();
  }

  /** A page from the index, or null when it cannot answer (not loaded, or too large): search visibility instead. */
  async page(q: IndexPageQuery): Promise<Task[] | null> {
    const now = Date.now();
    this.askedAt = now;
    if (this.state !== 'loaded') {
      if (this.state === 'new' && now >= this.retryAt) this.load();
      return null;
    }
    if (now - this.refreshedAt > taskIndexLimits.maxAgeMs) await this.refresh();
    this.schedule();
    let tasks = this.index.page(q);
    const age = (t: Task) => now - (this.checkedAt.get(t.task_id) ?? 0);
    const stale = tasks.filter((t) => isUnfinished(t) && age(t) > taskIndexLimits.refreshMs);
    if (stale.length > 0) {
      const asked = Promise.all(stale.map((t) => this.check(t.task_id)));
      if (stale.some((t) => age(t) > taskIndexLimits.maxAgeMs)) {
        await asked;
        tasks = this.index.page(q);
      } else {
        void asked.catch(() => undefined);
      }
    }
    return tasks;
  }

  /** A task this process has just started or changed: listed at once, before visibility shows it. */
  note(task: Task): void {
    if (this.state !== 'loaded') return;
    this.index.upsert(task);
    this.checkedAt.set(task.task_id, Date.now());
  }

  private load(): void {
    this.state = 'loading';
    const started = Date.now();
    void (async () => {
      const { count } = await this.client.workflow.count(listingBase);
      if (count > taskIndexLimits.maxTasks) {
        this.state = 'too-large';
        this.settle();
        return;
      }
      // No history read while loading: a task not ended is asked about when a page first shows it. Requests are
      // served between every few tasks decoded (a page of executions decodes in one go: kept small).
      let n = 0;
      for await (const info of this.client.workflow.list({ query: listingBase, pageSize: 100 })) {
        this.add(await toTask(this.client, info, false), info, 0);
        if (++n % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      this.refreshedAt = started;
      this.state = 'loaded';
      this.settle();
    })().catch(() => {
      // Temporal unreachable or the client closed: listings search visibility, and a later one tries again.
      this.state = 'new';
      this.retryAt = Date.now() + 5000;
    });
  }

  private add(task: Task, info: Omit<WorkflowExecutionInfo, 'raw'>, checkedAt: number): void {
    this.index.upsert(task);
    if (isUnfinished(task)) this.checkedAt.set(task.task_id, checkedAt);
    else this.checkedAt.delete(task.task_id);
    this.newestMs = Math.max(this.newestMs, info.startTime.getTime(), info.closeTime?.getTime() ?? 0);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    const started = Date.now();
    const infos: WorkflowExecutionInfo[] = [];
    for await (const info of this.client.workflow.list({ query: changedSinceQuery(listingBase, Math.max(this.newestMs, this.refreshedAt) - taskIndexLimits.lagMs), pageSize: taskPage.max })) infos.push(info);
    // an ended task already known as ended then is as it was (a later run of the same id is not)
    const known = (i: WorkflowExecutionInfo) => {
      const t = this.index.get(i.workflowId);
      return t !== undefined && !isUnfinished(t) && i.closeTime !== undefined && t.completed_at === rfc3339(i.closeTime);
    };
    // new and changed tasks
    const fresh = infos.filter((i) => !known(i));
    const tasks = await Promise.all(fresh.map((i) => toTask(this.client, i)));
    tasks.forEach((t, i) => this.add(t, fresh[i]!, started));
    if (started - this.prunedAt > 60_000) {
      this.index.pruneEndedBefore(started - (retentionDays + 1) * 86_400_000);
      this.prunedAt = started;
    }
    this.refreshedAt = started;
  }

  /** Asks a task not ended about itself (its execution, not visibility: current even before visibility is). */
  private check(id: string): Promise<void> {
    let p = this.checking.get(id);
    if (!p) {
      const started = Date.now();
      p = (async () => {
        try {
          const desc = await this.client.workflow.getHandle(id).describe();
          this.add(await toTask(this.client, desc), desc, started);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          this.index.remove(id);
          this.checkedAt.delete(id);
        }
      })().finally(() => this.checking.delete(id));
      this.checking.set(id, p);
    }
    return p;
  }

  /** Refreshes each second while listings are asked for; stops after a quiet spell (the timer never holds the process). */
  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      void this.refresh().catch(() => undefined).finally(() => {
        this.timer = null;
        if (Date.now() - this.askedAt < taskIndexLimits.idleMs) this.schedule();
      });
    }, taskIndexLimits.refreshMs);
    this.timer.unref();
  }
}

/** Every task (a workflow the control plane started as a task carries TaskScope). */
const listingBase = `${taskAttributes.scope.name} IS NOT NULL`;

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
  const canceling: Task = { ...task, status: 'canceling' };
  noteTasks(client, [canceling]);
  return canceling;
}
