// A node joining or leaving a running database, as ordered activities. Every activity is idempotent; values that
// must not change between attempts (slot positions, the copy's per-peer positions) travel through the workflow
// history, so a worker killed at any point resumes with the same ones.
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import type { NodeOnHost, Step } from '../model/planner.js';
import { controlPlane, onHost } from '../proxies/activities.js';

type JoinStep = Extract<Step, { kind: 'joinNode' }>;
type RemoveStep = Extract<Step, { kind: 'removeNode' }>;
type ResetStep = Extract<Step, { kind: 'resetNode' }>;

/**
 * Zero-downtime add-node (see JoinDriver in activities/replication/driver.ts):
 * 1. roles of the source; on N, disabled subscriptions to every other peer P;
 * 2. on each P, the slot N will read (from now on nothing P writes is lost to N);
 * 3. the source S applies every P past that slot; S's intake from the peers pauses (writes go on everywhere);
 *    the positions S holds of each P become N's start positions; N's copy of S takes its snapshot; S resumes;
 * 4. the copy ends; N's subscriptions to the peers start; N catches up past the copy, then judges conflicts by
 *    commit time again. The peers' subscriptions to N follow as plan steps.
 */
export async function joinNode(databaseId: string, step: JoinStep): Promise<void> {
  const fromBackup = step.fromBackup;
  await releasingSlotsOnFailure(databaseId, step, (known) => (fromBackup ? joinFromBackup(databaseId, step, fromBackup, known) : joinByCopy(databaseId, step, known)));
}

/**
 * A join that fails (or is cancelled) after it reserved slots on its peers releases them before the task fails:
 * each holds WAL on its peer for as long as it exists. `known` collects the slot names as the join learns them;
 * the activity prefers the names the new node's subscriptions record (the copy's slot on the source is known only
 * there). The node's data and subscriptions stay for the next update, which redoes the join from the start.
 */
async function releasingSlotsOnFailure(databaseId: string, step: JoinStep, join: (known: Record<string, string>) => Promise<void>): Promise<void> {
  const known: Record<string, string> = {};
  try {
    await join(known);
  } catch (err) {
    if (patched('join-releases-slots')) {
      const providers = [step.source, ...step.peers];
      await CancellationScope.nonCancellable(() => Promise.all(providers.map((p) => onHost(p.hostId, `releasing node ${step.nodeName}'s slot on node ${p.name}: the join failed`, 'long')
        .releaseJoinSlots({ databaseId, nodeName: step.nodeName, providers: [p.name], known })
        .catch(() => undefined)))); // the join's own failure is what the task reports; the next update clears what is left
    }
    throw err;
  }
}

async function joinByCopy(databaseId: string, step: JoinStep, known: Record<string, string>): Promise<void> {
  const n = step.nodeName;
  const s = step.source;
  const peers = step.peers.map((p) => p.name);
  const on = (h: NodeOnHost | string, summary: string, kind?: 'long' | 'copy') => onHost(typeof h === 'string' ? h : h.hostId, summary, kind);
  const newNode = step.hostId;

  await on(newNode, `copying roles from node ${s.name} to node ${n}`, 'long').copyRoles({ databaseId, nodeName: n, source: s.name });
  if (peers.length > 0) {
    const slots = await on(newNode, `preparing node ${n}'s subscriptions to ${peers.join(', ')} (disabled until the copy ends)`, 'long')
      .prepareJoinSubscriptions({ databaseId, nodeName: n, providers: peers });
    Object.assign(known, slots);
    const reserved = await reservePeerSlots(databaseId, step, slots);
    try {
      const positions = await on(s, `pausing node ${s.name}'s intake from ${peers.join(', ')} while the copy's snapshot is taken`, 'long')
        .pauseSourceIntake({ databaseId, source: s.name, minimum: reserved });
      await on(newNode, `setting node ${n}'s start positions: ${Object.entries(positions).map(([p, l]) => `${p} at ${l}`).join(', ')}`, 'long')
        .setJoinStartPositions({ databaseId, nodeName: n, positions });
      await on(newNode, `starting the copy of node ${s.name} to node ${n}`, 'long').startJoinCopy({ databaseId, nodeName: n, source: s.name });
    } finally {
      await CancellationScope.nonCancellable(() => on(s, `resuming node ${s.name}'s intake from ${peers.join(', ')}`, 'long')
        .resumeSourceIntake({ databaseId, source: s.name, providers: peers }));
    }
  } else {
    await on(newNode, `starting the copy of node ${s.name} to node ${n}`, 'long').startJoinCopy({ databaseId, nodeName: n, source: s.name });
  }
  await on(newNode, `waiting for the copy of node ${s.name} to node ${n} to end`, 'copy').finishJoinCopy({ databaseId, nodeName: n, source: s.name });
  if (peers.length > 0) {
    await on(newNode, `starting node ${n}'s subscriptions to ${peers.join(', ')}`, 'long').enableJoinSubscriptions({ databaseId, nodeName: n, providers: peers });
  }
  await on(newNode, `waiting for node ${n} to catch up with ${[s.name, ...peers].join(', ')}`, 'copy') // after a long copy, much to replay
    .waitJoinCaughtUp({ databaseId, nodeName: n, providers: [s.name, ...peers] });
}

/**
 * The join's first half, from a copy or from a backup: on each peer P other than the source S, the slot the new node
 * will read (from then on nothing P writes is lost to it), then S applies every P past that slot, so what S's data
 * holds and what the new node will read from P meet. Returns each P's slot position.
 */
async function reservePeerSlots(databaseId: string, step: JoinStep, slots: Record<string, string>): Promise<Record<string, string>> {
  const { nodeName: n, source: s } = step;
  const reserved: Record<string, string> = {};
  await Promise.all(step.peers.map(async (p) => {
    reserved[p.name] = (await onHost(p.hostId, `reserving slot ${slots[p.name]} on node ${p.name} for node ${n}`, 'long')
      .reserveJoinSlot({ databaseId, provider: p.name, slotName: slots[p.name]! })).lsn;
  }));
  await Promise.all(step.peers.map((p) => onHost(s.hostId, `waiting for node ${s.name} to apply node ${p.name}'s changes up to ${reserved[p.name]}`, 'long')
    .waitSourceApplied({ databaseId, source: s.name, provider: p.name, lsn: reserved[p.name]! })));
  return reserved;
}

/**
 * A node added from a backup of the source S, with no gap and no change applied twice:
 * 1. N's subscriptions prepared (their slot names); on each other peer P, N's slot; S applies every P past it;
 * 2. then N's slot on S: the restore's target. S's WAL up to it is archived, and N's primary restored to just
 *    before it (recovery ends with the replication layer off, the backup's subscriptions disabled);
 * 3. the positions S held of each P at that point come with the data (replication origins): read, then the
 *    catalog is made anew and N's subscriptions start at S's slot and at those positions.
 * The slot positions travel through the workflow history, so a resumed task restores to the same point.
 */
async function joinFromBackup(databaseId: string, step: JoinStep, { instanceId, sourceDatabaseName }: { instanceId: string; sourceDatabaseName: string }, known: Record<string, string>): Promise<void> {
  const n = step.nodeName;
  const s = step.source;
  const peers = step.peers.map((p) => p.name);
  const all = [s.name, ...peers];
  const on = (h: NodeOnHost | string, summary: string, kind?: 'long' | 'copy') => onHost(typeof h === 'string' ? h : h.hostId, summary, kind);
  const newNode = step.hostId;

  const slots = await on(newNode, `learning the slot names of node ${n}'s subscriptions to ${all.join(', ')}`, 'long')
    .prepareJoinSubscriptions({ databaseId, nodeName: n, providers: all });
  Object.assign(known, slots);
  await reservePeerSlots(databaseId, step, slots);
  const { lsn: joinAt } = await on(s, `reserving slot ${slots[s.name]} on node ${s.name} for node ${n}: the restore ends just before it`, 'long')
    .reserveJoinSlot({ databaseId, provider: s.name, slotName: slots[s.name]! });
  await on(s, `archiving node ${s.name}'s WAL up to ${joinAt} (pgbackrest check)`, 'long').ensureBackupStanza({ databaseId, nodeName: s.name });
  await on(newNode, `restoring ${instanceId} from node ${s.name}'s backup up to ${joinAt}, node ${s.name}'s subscriptions turned off before they run`, 'copy')
    .restoreInstance({ databaseId, nodeName: n, instanceId, joinAt, taskId: workflowInfo().workflowId });
  const positions = peers.length === 0 ? {} : await on(newNode, `reading the positions of ${peers.join(', ')} node ${s.name} held at ${joinAt}`, 'long')
    .restoredSourcePositions({ databaseId, nodeName: n, source: s.name, providers: peers });
  await on(newNode, `making node ${n}'s replication node anew on the restored data`, 'long')
    .resetRestoredNode({ databaseId, nodeName: n, sourceDatabaseName });
  const again = await on(newNode, `preparing node ${n}'s subscriptions to ${all.join(', ')} (disabled until their start positions are set)`, 'long')
    .prepareJoinSubscriptions({ databaseId, nodeName: n, providers: all });
  const moved = all.filter((p) => again[p] !== slots[p]);
  if (moved.length > 0) throw ApplicationFailure.nonRetryable(`slot names changed after the restore: ${moved.map((p) => `${slots[p]} → ${again[p]}`).join(', ')}`);
  const start = { [s.name]: joinAt, ...positions };
  await on(newNode, `setting node ${n}'s start positions: ${Object.entries(start).map(([p, l]) => `${p} at ${l}`).join(', ')}`, 'long')
    .setJoinStartPositions({ databaseId, nodeName: n, positions: start });
  await on(newNode, `starting node ${n}'s subscriptions to ${all.join(', ')}`, 'long').enableJoinSubscriptions({ databaseId, nodeName: n, providers: all });
  await on(newNode, `waiting for node ${n} to catch up with ${all.join(', ')}`, 'copy').waitJoinCaughtUp({ databaseId, nodeName: n, providers: all });
}

/**
 * Drained first (every remaining node applies what it committed so far), then unlinked (the others stop reading it
 * and drop its slots), then its instances, data and Patroni keys.
 */
export async function removeNode(databaseId: string, step: RemoveStep): Promise<void> {
  const instanceIds = step.instances.map((i) => i.instanceId);
  await Promise.all(step.remaining.map((o) => onHost(o.hostId, `waiting for node ${o.name} to apply everything node ${step.nodeName} wrote so far`, 'long')
    .drainNode({ databaseId, nodeName: o.name, removed: step.nodeName, instanceIds })));
  await unlinkNode(databaseId, step.nodeName, step.remaining);
  await Promise.all(step.instances.map((i) => onHost(i.hostId, `removing instance ${i.instanceId} and its data on ${i.hostId}`).removeInstance({ databaseId, instanceId: i.instanceId })));
  await controlPlane.clearNodeDcs({ databaseId, nodeNames: [step.nodeName] });
  // Instances on hosts given as gone (remove_host) are only forgotten.
  await controlPlane.forgetNodeRecords({ databaseId, nodeName: step.nodeName, instanceIds: [...step.instances.map((i) => i.instanceId), ...(step.forgotten ?? [])] });
}

/** A join redone from the start: whatever an earlier, failed attempt left (links, containers, data, keys) goes. */
export async function resetNode(databaseId: string, step: ResetStep): Promise<void> {
  await unlinkNode(databaseId, step.nodeName, step.peers);
  await Promise.all(step.instances.map((i) => onHost(i.hostId, `removing instance ${i.instanceId} if an earlier attempt left it`).removeInstance({ databaseId, instanceId: i.instanceId })));
  await controlPlane.clearNodeDcs({ databaseId, nodeNames: [step.nodeName] });
}

async function unlinkNode(databaseId: string, nodeName: string, others: NodeOnHost[]): Promise<void> {
  await Promise.all(others.map((o) => onHost(o.hostId, `dropping node ${o.name}'s subscription to node ${nodeName} and node ${nodeName}'s slots on it`, 'long')
    .dropNodeLinks({ databaseId, nodeName: o.name, removed: nodeName })));
}
