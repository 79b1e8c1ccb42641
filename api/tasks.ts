// Tasks are Temporal workflows: the task id is the workflow id (UUIDv7), task metadata lives in search attributes,
// status comes from the execution and the log from its history. Nothing about tasks is stored elsewhere.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { uuidv7 } from 'uuidv7';
import type * as workflows from '../workflows/index.js';
import { taskAttributes, taskQueues, taskSearchAttributes, type DatabaseTaskMeta, type TaskType } from '../workflows/model/search-attributes.js';
import { ApiError } from './errors.js';
import { maxListLimit } from './schemas/database.js';
import { rfc3339 } from './render/time.js';
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
  create: 'createDatabase', update: 'updateDatabase', delete: 'deleteDatabase', switchover: 'switchover', failover: 'failover',
  restart_instance: 'restartInstance', node_backup: 'nodeBackup', restore: 'restoreDatabase', stop_instance: 'stopInstance', start_instance: 'startInstance',
} as const satisfies Partial<Record<TaskType, keyof Workflows>>;
export type StartableTaskType = keyof typeof workflowOf;
type WorkflowOf<T extends StartableTaskType> = Workflows[(typeof workflowOf)[T]];

/** A task to start: its type, the workflow's own input (type-checked against the workflow), and what it is about. */
export type StartTaskInput<T extends StartableTaskType> = Omit<DatabaseTaskMeta, 'type' | 'databaseId'> & {
  type: T;
  input: Parameters<WorkflowOf<T>>[0];
};

export async function startDatabaseTask<T extends StartableTaskType>(client: Client, t: StartTaskInput<T>): Promise<Task> {
  const { type, input, ...about } = t;
  const meta: DatabaseTaskMeta = { type, databaseId: input.databaseId, ...about };
  const handle = await client.workflow.start<WorkflowOf<T>>(workflowOf[type], {
    workflowId: uuidv7(),
    taskQueue: taskQueues.controlPlane,
    args: [input] as Parameters<WorkflowOf<T>>,
    typedSearchAttributes: taskSearchAttributes(meta),
    staticSummary: `${type} ${meta.databaseId}`,
  });
  return {
    scope: 'database', entity_id: meta.databaseId, database_id: meta.databaseId,
    ...(meta.hostId ? { host_id: meta.hostId } : {}), ...(meta.nodeName ? { node_name: meta.nodeName } : {}), ...(meta.instanceId ? { instance_id: meta.instanceId } : {}),
    task_id: handle.workflowId, created_at: rfc3339(new Date()), type, status: 'pending',
  };
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

async function history(client: Client, taskId: string) {
  return (await client.workflow.getHandle(taskId).fetchHistory()).events ?? [];
}

async function toTask(client: Client, info: Omit<WorkflowExecutionInfo, 'raw'>): Promise<Task> {
  const attr = (k: (typeof taskAttributes)[keyof typeof taskAttributes]) => info.typedSearchAttributes.get(k);
  const running = info.status.name === 'RUNNING';
  const failed = ['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(info.status.name);
  const events = running || failed ? await history(client, info.workflowId) : [];
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
    task.error = redactSecrets(f?.message ?? last?.workflowExecutionTerminatedEventAttributes?.reason ?? 'task failed');
  }
  return task;
}

export interface ListTasksQuery { scope?: 'database' | 'host'; entityId?: string; afterTaskId?: string; limit?: number; sortOrder: 'asc' | 'desc' }

export async function listTasks(client: Client, q: ListTasksQuery): Promise<Task[]> {
  // Values reach the query only after identifier validation (lowercase letters, digits, hyphens).
  const clauses = [`${taskAttributes.scope.name} IS NOT NULL`];
  if (q.scope) clauses.push(`${taskAttributes.scope.name} = '${q.scope}'`);
  if (q.entityId) clauses.push(`${taskAttributes.entityId.name} = '${q.entityId}'`);
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) infos.push(info);
  // Ordered here: SQLite visibility refuses ORDER BY. Task ids are UUIDv7, so their order is creation order.
  infos.sort((a, b) => (q.sortOrder === 'asc' ? a.workflowId.localeCompare(b.workflowId) : b.workflowId.localeCompare(a.workflowId)));
  let page = infos;
  if (q.afterTaskId) {
    const after = q.afterTaskId;
    page = page.filter((i) => (q.sortOrder === 'asc' ? i.workflowId > after : i.workflowId < after));
  }
  page = page.slice(0, q.limit && q.limit > 0 ? q.limit : maxListLimit);
  return Promise.all(page.map((i) => toTask(client, i)));
}

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

export async function getTaskLog(client: Client, taskId: string): Promise<TaskLogEntry[]> {
  return renderTaskLog(await history(client, taskId));
}

export async function cancelTask(client: Client, task: Task): Promise<Task> {
  if (task.status !== 'pending' && task.status !== 'running') throw new ApiError('invalid_input', 'task must be running or pending to be cancelled');
  await client.workflow.getHandle(task.task_id).cancel();
  return { ...task, status: 'canceling' };
}
