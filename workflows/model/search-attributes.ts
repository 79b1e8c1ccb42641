// Task metadata lives in Temporal search attributes, so tasks are listed with visibility queries.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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

export const taskQueues = {
  controlPlane: 'control-plane',
  host: (hostId: string) => `host.${hostId}`,
} as const;
