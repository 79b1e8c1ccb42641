// Task metadata lives in Temporal search attributes, so tasks are listed with visibility queries. One builder makes
// them for every start of a task: the API's, a schedule's and a parent task's children.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { ids } from './ids.js';

export type TaskType = 'create' | 'update' | 'delete' | 'node_backup' | 'restore' | 'node_restore' | 'restart_instance'
  | 'stop_instance' | 'start_instance' | 'switchover' | 'failover' | 'remove_host' | 'upgrade';

export const taskAttributes = {
  scope: defineSearchAttributeKey('TaskScope', SearchAttributeType.KEYWORD),
  entityId: defineSearchAttributeKey('EntityId', SearchAttributeType.KEYWORD),
  databaseId: defineSearchAttributeKey('DatabaseId', SearchAttributeType.KEYWORD),
  hostId: defineSearchAttributeKey('HostId', SearchAttributeType.KEYWORD),
  taskType: defineSearchAttributeKey('TaskType', SearchAttributeType.KEYWORD),
  nodeName: defineSearchAttributeKey('NodeName', SearchAttributeType.KEYWORD),
  instanceId: defineSearchAttributeKey('InstanceId', SearchAttributeType.KEYWORD),
  parentTaskId: defineSearchAttributeKey('ParentTaskId', SearchAttributeType.KEYWORD),
} as const;

/** Memo keys a task writes for its listing, so listing never reads its history. */
export const taskMemo = { error: 'error' } as const;

/** What a database task is about: the search attributes it is listed by. */
export interface DatabaseTaskMeta {
  type: TaskType;
  databaseId: string;
  nodeName?: string;
  instanceId?: string;
  /** Shown as the task's host_id (stop / start). */
  hostId?: string;
  parentTaskId?: string;
}

export function taskSearchAttributes(t: DatabaseTaskMeta): SearchAttributePair[] {
  const optional = (key: (typeof taskAttributes)[keyof typeof taskAttributes], value: string | undefined) => (value ? [{ key, value }] : []);
  return [
    { key: taskAttributes.scope, value: 'database' },
    { key: taskAttributes.entityId, value: t.databaseId },
    { key: taskAttributes.databaseId, value: t.databaseId },
    { key: taskAttributes.taskType, value: t.type },
    ...optional(taskAttributes.nodeName, t.nodeName),
    ...optional(taskAttributes.instanceId, t.instanceId),
    ...optional(taskAttributes.hostId, t.hostId),
    ...optional(taskAttributes.parentTaskId, t.parentTaskId),
  ];
}

/** A host task (remove_host): scope host, listed under the host. */
export function hostTaskSearchAttributes(t: { type: TaskType; hostId: string }): SearchAttributePair[] {
  return [
    { key: taskAttributes.scope, value: 'host' },
    { key: taskAttributes.entityId, value: t.hostId },
    { key: taskAttributes.hostId, value: t.hostId },
    { key: taskAttributes.taskType, value: t.type },
  ];
}

export const taskQueues = {
  controlPlane: ids.controlPlaneTaskQueue,
  host: ids.hostTaskQueue,
} as const;
