// The plan runner: a plan (pure data from model/planner.ts) recorded, then run phase by phase. Each step runs as an
// activity on its host's queue, with the step's description as the activity summary (it becomes the task log
// line); node-level steps (join, removal, hand-over) as the procedures' sequences of such activities.
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { planInstances } from '../model/instances.js';
import { describeStep, planLines, type Plan, type Step } from '../model/planner.js';
import { handOverFrom } from '../procedures/hand-over.js';
import { rollNode } from './roll-node.js';
import { joinNode, removeNode, resetNode } from '../procedures/node-membership.js';
import { controlPlane, onHost } from '../proxies/activities.js';
import { waitInstance } from './wait-instance.js';

/** Records the plan (the task log shows it first) and the desired instances, then runs it. */
export async function runPlan(databaseId: string, spec: DatabaseSpec, plan: Plan, state: 'creating' | 'modifying', before?: () => Promise<unknown>): Promise<void> {
  await controlPlane.recordPlan({ lines: planLines(plan) });
  await controlPlane.recordInstances({
    databaseId,
    instances: planInstances(databaseId, spec).map((i) => ({ id: i.instanceId, nodeName: i.nodeName, hostId: i.hostId })),
    state,
  });
  await before?.();
  await executePlan(databaseId, plan);
  await controlPlane.syncBackupSchedules({ databaseId }); // the spec's backup schedules, now that its stanzas exist
}

export async function runStep(databaseId: string, step: Step): Promise<void> {
  const summary = describeStep(step);
  switch (step.kind) {
    case 'network':
      await onHost(step.hostId, summary).ensureDatabaseNetwork({ databaseId });
      return;
    case 'instance':
      await onHost(step.hostId, summary).ensureInstance({ databaseId, instanceId: step.instanceId });
      return;
    case 'waitInstance':
      await waitInstance(databaseId, step, summary);
      return;
    case 'nodeDatabase':
      await onHost(step.hostId, summary, 'long').ensureNodeDatabase({ databaseId, nodeName: step.nodeName, joining: step.joining, ...(step.scripts ? { scripts: true } : {}) });
      return;
    case 'checkUsers':
      await onHost(step.hostId, summary, 'long').checkUserRemoval({ databaseId, nodeName: step.nodeName });
      return;
    case 'applyConfig':
      await onHost(step.hostId, summary, 'long').applyNodeConfig({ databaseId, nodeName: step.nodeName });
      return;
    case 'subscription':
      if (step.fromSlot) await onHost(step.hostId, summary, 'long').subscribeFromSlot({ databaseId, subscriber: step.subscriber, provider: step.provider });
      else await onHost(step.hostId, summary, 'long').ensureSubscription({ databaseId, subscriber: step.subscriber, provider: step.provider });
      return;
    case 'waitReplication':
      await onHost(step.hostId, summary, 'long').waitForReplication({ databaseId, nodeName: step.nodeName, subscriptions: step.subscriptions });
      return;
    case 'restoredNode':
      await onHost(step.hostId, summary, 'long').resetRestoredNode({ databaseId, nodeName: step.nodeName, sourceDatabaseName: step.sourceDatabaseName });
      return;
    case 'backupStanza':
      await onHost(step.hostId, summary, 'long').ensureBackupStanza({ databaseId, nodeName: step.nodeName });
      return;
    case 'protectSlots':
      await onHost(step.hostId, summary, 'long').protectLogicalSlots({ databaseId, nodeName: step.nodeName, waitForReplicas: true });
      return;
    case 'removeReplica':
      if (!step.gone) {
        await handOverFrom(databaseId, step.nodeName, step.instanceId, step.hostId);
        await onHost(step.hostId, summary).removeInstance({ databaseId, instanceId: step.instanceId });
      }
      await controlPlane.forgetInstanceRecords({ instanceIds: [step.instanceId] });
      return;
    case 'removeInstance':
      await onHost(step.hostId, summary).removeInstance({ databaseId, instanceId: step.instanceId });
      return;
    case 'removeNetwork':
      await onHost(step.hostId, summary).removeDatabaseNetwork({ databaseId });
      return;
    case 'service':
      await onHost(step.hostId, summary).ensureServiceInstance({ databaseId, serviceId: step.serviceId });
      return;
    case 'waitService':
      await onHost(step.hostId, summary, 'long').waitServiceInstance({ databaseId, serviceId: step.serviceId });
      return;
    case 'servicePreflight':
      await onHost(step.hostId, summary, 'long').postgrestPreflight({ databaseId, serviceId: step.serviceId, nodeName: step.nodeName });
      return;
    case 'ragPreflight':
      await onHost(step.hostId, summary, 'long').ragPreflight({ databaseId, serviceId: step.serviceId, nodeName: step.nodeName });
      return;
    case 'serviceRoles':
      await onHost(step.hostId, summary, 'long').postgrestAuthenticator({ databaseId, serviceId: step.serviceId, nodeName: step.nodeName });
      return;
    case 'removeService':
      if (step.gone) await controlPlane.forgetServiceInstance({ databaseId, serviceId: step.serviceId, hostId: step.hostId });
      else await onHost(step.hostId, summary).removeServiceInstance({ databaseId, serviceId: step.serviceId });
      return;
    case 'resetNode':
      await resetNode(databaseId, step);
      return;
    case 'joinNode':
      await joinNode(databaseId, step);
      return;
    case 'removeNode':
      await removeNode(databaseId, step);
      return;
    case 'rollNode':
      await rollNode(databaseId, step);
      return;
    case 'markJoined':
      await controlPlane.markNodesJoined({ databaseId, nodeNames: step.nodeNames });
      return;
  }
}

export async function executePlan(databaseId: string, plan: Plan): Promise<void> {
  for (const wave of plan.waves) {
    // Every step of a phase settles before a failure propagates: no step is still acting when cleanup runs.
    const results = await Promise.allSettled(wave.map((step) => runStep(databaseId, step)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
