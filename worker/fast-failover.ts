// Fast unplanned failover: the host's agent follows Docker's events for its own instance containers. When one dies
// and it held its node's Patroni leader key, the agent starts a `failover` task at once (workflows/procedures/
// hand-over.ts): Patroni alone would wait for the key's ttl to run out before any replica may take over, while a
// container that died is certain knowledge. A paused container sends no such event, and the task checks again that
// the old primary cannot serve before it releases anything.
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { uuidv7 } from 'uuidv7';
import { inspectContainerOrNull, labels } from '../activities/docker/client.js';
import { getValue, type Etcd } from '../activities/etcd.js';
import { getDatabase, getDatabaseLock, lockDatabase, unlockDatabase } from '../store/databases.js';
import { listInstances, listInstancesOnHost } from '../store/instances.js';
import type { Store } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { ids } from '../workflows/model/ids.js';
import { taskAttributes, taskQueues, taskSearchAttributes } from '../workflows/model/search-attributes.js';
import type * as workflows from '../workflows/index.js';

export interface FastFailoverDeps { store: Store; docker: Docker; hostId: string; etcd: Etcd; log: Logger; temporal: Client }

/** The Docker events that may mean an instance is gone (a `kill` may not end the container: it is checked). */
export const deathEvents = ['die', 'oom', 'kill'] as const;

export interface InstanceDeath { instanceId: string; event: string; at: string }

/** Pure: the instance a Docker event is about, when it is a death-like event of an instance container of this host. */
export function instanceDeath(event: unknown, hostId: string): InstanceDeath | null {
  const e = event as { Type?: string; Action?: string; timeNano?: number; time?: number; Actor?: { Attributes?: Record<string, string> } };
  const attrs = e.Actor?.Attributes ?? {};
  if (e.Type !== 'container' || !(deathEvents as readonly string[]).includes(e.Action ?? '')) return null;
  const instanceId = attrs[labels.instanceId];
  if (attrs[labels.purpose] !== 'instance' || attrs[labels.hostId] !== hostId || !instanceId) return null;
  const ms = e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
  return { instanceId, event: e.Action!, at: new Date(ms || Date.now()).toISOString() };
}

/** How long a death that started a task is remembered (its further events start nothing). */
const forgetStartedAfterMs = 10 * 60_000;

export function createFastFailover(deps: FastFailoverDeps) {
  const started = new Map<string, number>();
  const queue = new Map<string, Promise<void>>();

  /** Whether task `taskId` backs up node `nodeName` (its search attributes say which node). */
  async function backsUpNode(taskId: string, nodeName: string): Promise<boolean> {
    const d = await deps.temporal.workflow.getHandle(taskId).describe().catch(() => null);
    return d?.status.name === 'RUNNING' && d.typedSearchAttributes.get(taskAttributes.nodeName) === nodeName;
  }

  /**
   * Why no failover is started for this death, or the death's identity (its container's end time) when one should be,
   * with the backup task whose lock it takes over (a backup of the dead primary, which cannot finish).
   */
  async function reasonToSkip(d: InstanceDeath): Promise<{ skip: string } | { finishedAt: string; supersedes?: string }> {
    const rec = (await listInstancesOnHost(deps.store, deps.hostId)).find((i) => i.id === d.instanceId);
    if (!rec) return { skip: 'not an instance of this host' };
    if (rec.stopped) return { skip: 'stopped on purpose' };
    // While a task changes the database (an update recreates a container, a restore stops it), that task owns it.
    const state = (await getDatabase(deps.store, rec.databaseId))?.state;
    if (state !== 'available' && state !== 'degraded') return { skip: `database is ${state ?? 'gone'}` };
    // Another task holds the database's lock: the failover task would be refused it (Patroni's own failover applies),
    // unless it is a backup of this node, which died with its primary: the failover takes that lock over.
    const lock = await getDatabaseLock(deps.store, rec.databaseId);
    const supersedes = lock?.type === 'node_backup' && await backsUpNode(lock.taskId, rec.nodeName) ? lock.taskId : undefined;
    if (lock && !supersedes) return { skip: `task ${lock.taskId} (${lock.type}) holds the database's lock` };
    if ((await listInstances(deps.store, rec.databaseId)).filter((i) => i.nodeName === rec.nodeName).length < 2) return { skip: 'its node has no replica' };
    const info = await inspectContainerOrNull(deps.docker, d.instanceId);
    if (!info) return { skip: 'its container is gone (removed on purpose)' };
    if (info.State.Running || info.State.Paused) return { skip: 'its container runs' };
    const leader = await getValue(deps.etcd, `${ids.patroniKeys(rec.databaseId, rec.nodeName)}leader`);
    if (leader !== d.instanceId) return { skip: `it does not lead its node (leader: ${leader ?? 'none'})` };
    return { finishedAt: info.State.FinishedAt, ...(supersedes ? { supersedes } : {}) };
  }

  async function handle(d: InstanceDeath): Promise<void> {
    try {
      const check = await reasonToSkip(d);
      if ('skip' in check) { deps.log.debug({ ...d, skip: check.skip }, 'instance container event: no failover'); return; }
      // one death gives several events (kill, then die; again after a re-subscription): one task per death
      const death = `${d.instanceId}@${check.finishedAt}`;
      if (started.has(death)) return;
      const rec = (await listInstancesOnHost(deps.store, deps.hostId)).find((i) => i.id === d.instanceId)!;
      const taskId = uuidv7();
      const input = { databaseId: rec.databaseId, nodeName: rec.nodeName, hostId: deps.hostId, unplanned: d, ...(check.supersedes ? { supersedes: check.supersedes } : {}) };
      // The backup's lock is taken over here, atomically (as a forced delete does), so no other task slips between.
      if (check.supersedes && !(await lockDatabase(deps.store, rec.databaseId, { taskId, type: 'failover', from: 'any', takeOverFrom: check.supersedes }))) {
        deps.log.debug({ ...d, skip: 'the backup\'s lock changed hands' }, 'instance container event: no failover');
        return;
      }
      const handle = await deps.temporal.workflow.start<typeof workflows.failover>('failover', {
        workflowId: taskId,
        taskQueue: taskQueues.controlPlane,
        args: [input],
        typedSearchAttributes: taskSearchAttributes({ type: 'failover', databaseId: rec.databaseId, nodeName: rec.nodeName, instanceId: d.instanceId }),
        staticSummary: `failover ${rec.databaseId} (primary ${d.instanceId} died)`,
      }).catch(async (err: unknown) => {
        if (check.supersedes) await unlockDatabase(deps.store, rec.databaseId, taskId).catch(() => undefined);
        throw err;
      });
      started.set(death, Date.now());
      for (const [k, at] of started) if (Date.now() - at > forgetStartedAfterMs) started.delete(k);
      deps.log.warn({ ...d, taskId: handle.workflowId }, 'primary container died: failover task started');
    } catch (err) {
      deps.log.warn({ ...d, err: err instanceof Error ? err.message : String(err) }, 'fast failover not started');
    }
  }

  /** Events of one instance are handled one after the other: a `die` that arrives while its `kill` is checked waits. */
  function onDeath(d: InstanceDeath): Promise<void> {
    const next = (queue.get(d.instanceId) ?? Promise.resolve()).then(() => handle(d));
    queue.set(d.instanceId, next);
    void next.finally(() => { if (queue.get(d.instanceId) === next) queue.delete(d.instanceId); });
    return next;
  }

  return { onDeath };
}

/** Follows this host's instance container events until stopped, subscribing again (from where it was) when the stream ends. */
export function startFastFailover(deps: FastFailoverDeps): { stop: () => void } {
  const { onDeath } = createFastFailover(deps);
  return followInstanceEvents(deps, deathEvents, (event) => {
    const d = instanceDeath(event, deps.hostId);
    if (d) void onDeath(d);
  });
}

/**
 * Follows Docker's events `actions` of this host's instance containers until stopped: each parsed event is handed to
 * `onEvent`; when the stream ends the subscription starts again from the last event's second (so nothing is missed;
 * an event may come twice, and handlers dedupe).
 */
export function followInstanceEvents(
  deps: { docker: Docker; hostId: string; log: Logger },
  actions: readonly string[],
  onEvent: (event: unknown) => void,
): { stop: () => void } {
  let stopped = false;
  let current: NodeJS.ReadableStream | null = null;
  let since = Math.floor(Date.now() / 1000);
  const subscribe = async () => {
    if (stopped) return;
    try {
      const stream = await deps.docker.getEvents({
        since,
        filters: { type: ['container'], event: [...actions], label: [`${labels.purpose}=instance`, `${labels.hostId}=${deps.hostId}`] },
      });
      current = stream;
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim())) {
          let event: { time?: number };
          try { event = JSON.parse(line) as { time?: number }; } catch { continue; }
          if (event.time) since = event.time;
          onEvent(event);
        }
      });
      let again = false;
      const resubscribe = () => {
        if (again || stopped) return;
        again = true;
        current = null;
        setTimeout(() => void subscribe(), 1000);
      };
      stream.once('end', resubscribe);
      stream.once('close', resubscribe);
      stream.once('error', resubscribe);
    } catch (err) {
      deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Docker events: subscribing again in 2 s');
      setTimeout(() => void subscribe(), 2000);
    }
  };
  void subscribe();
  return {
    stop: () => {
      stopped = true;
      (current as unknown as { destroy?: () => void } | null)?.destroy?.();
    },
  };
}
