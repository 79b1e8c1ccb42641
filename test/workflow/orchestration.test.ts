// Orchestration only: the real workflows against stub activities, on a real Temporal server. Transient failures
// are retried, permanent ones fail the task at once, and a cancelled task still marks its database failed.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { dataConverter } from '../../platform/payload-codec.js';
import { testSecretKey, testTemporalClient } from '../support/secret-key.js';
import { Runtime, Worker } from '@temporalio/worker';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, beforeEach, describe, expect, it, inject } from 'vitest';
import type { ControlPlaneActivities, HostActivities } from '../../activities/index.js';
import { storeActivities } from '../../activities/control-plane/store-records.js';
import { connectWorker } from '../../platform/temporal.js';
import { bundleWorkflows, hostWorkerTuning } from '../../worker/workers.js';
import { taskQueues } from '../../workflows/model/search-attributes.js';
import { workflowTestNamespace } from '../support/global-setup.js';
import { waitFor } from '../support/wait.js';

const spec = { database_name: 'app', postgres_version: '17.12', spock_version: '5', nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'] }] };
const calls: { name: string; arg: unknown }[] = [];
let currentSpec: typeof spec = spec; // the stored spec the stub store returns
let behaviour: { ensureInstance: () => Promise<void>; waitForInstance: () => Promise<void>; startJoinCopy: () => Promise<void>; acquireDatabaseLock: () => Promise<void> };
const record = (name: string) => async (arg: unknown) => { calls.push({ name, arg }); };

const controlPlane: Partial<ControlPlaneActivities> = {
  getDatabaseSpec: async () => currentSpec,
  recordPlan: record('recordPlan'),
  recordInstances: record('recordInstances'),
  clearNodeDcs: async (arg) => { calls.push({ name: 'clearNodeDcs', arg }); return 0; },
  setDatabaseState: record('setDatabaseState'),
  acquireDatabaseLock: async (arg) => { calls.push({ name: 'acquireDatabaseLock', arg }); await behaviour.acquireDatabaseLock(); },
  setInstanceState: record('setInstanceState'),
  releaseDatabaseLock: async () => ({ released: true }),
  removeDatabaseRecord: record('removeDatabaseRecord'),
  // the real one: it cancels a task through Temporal and waits for it to end
  endSupersededTask: async (arg) => { calls.push({ name: 'endSupersededTask', arg }); return storeActivities({ temporal: client } as never).endSupersededTask(arg); },
  markNodesJoined: record('markNodesJoined'),
  getDatabaseLayout: async () => ({ joined: ['n1', 'n2'], instances: [], serviceInstances: [] }),
  syncBackupSchedules: async (arg) => { calls.push({ name: 'syncBackupSchedules', arg }); return { created: [], updated: [], deleted: [] }; },
};
const host: Partial<HostActivities> = {
  ensureDatabaseNetwork: record('ensureDatabaseNetwork'),
  ensureInstance: async (arg) => { calls.push({ name: 'ensureInstance', arg }); await behaviour.ensureInstance(); return { containerId: 'c', recreated: false }; },
  waitForInstance: async (arg) => { calls.push({ name: 'waitForInstance', arg }); await behaviour.waitForInstance(); return { role: 'primary' }; },
  ensureNodeDatabase: async (arg) => { calls.push({ name: 'ensureNodeDatabase', arg }); return { primary: 'x', droppedUsers: [] }; },
  ensureSubscription: async (arg) => { calls.push({ name: 'ensureSubscription', arg }); return { name: 'sub' }; },
  waitForReplication: record('waitForReplication'),
  // what an update adding n3 to n1, n2 calls beyond the create's steps
  checkUserRemoval: async (arg) => { calls.push({ name: 'checkUserRemoval', arg }); return { toDrop: [] }; },
  applyNodeConfig: async (arg) => { calls.push({ name: 'applyNodeConfig', arg }); return { changed: [], pendingRestart: [] }; },
  dropNodeLinks: async (arg) => { calls.push({ name: 'dropNodeLinks', arg }); return { droppedSlots: [] }; },
  releaseJoinSlots: async (arg) => { calls.push({ name: 'releaseJoinSlots', arg }); return { released: [] }; },
  removeInstance: record('removeInstance'),
  removeDatabaseNetwork: record('removeDatabaseNetwork'),
  copyRoles: async (arg) => { calls.push({ name: 'copyRoles', arg }); return { created: [] }; },
  prepareJoinSubscriptions: async (arg) => { calls.push({ name: 'prepareJoinSubscriptions', arg }); return { n2: 'pgl_app_n2_sub_n3n2' }; },
  reserveJoinSlot: async (arg) => { calls.push({ name: 'reserveJoinSlot', arg }); return { lsn: '0/100' }; },
  waitSourceApplied: async (arg) => { calls.push({ name: 'waitSourceApplied', arg }); return { applied: '0/180' }; },
  pauseSourceIntake: async (arg) => { calls.push({ name: 'pauseSourceIntake', arg }); return { n2: '0/200' }; },
  setJoinStartPositions: record('setJoinStartPositions'),
  startJoinCopy: async (arg) => { calls.push({ name: 'startJoinCopy', arg }); await behaviour.startJoinCopy(); },
  resumeSourceIntake: record('resumeSourceIntake'),
  finishJoinCopy: record('finishJoinCopy'),
  enableJoinSubscriptions: record('enableJoinSubscriptions'),
  waitJoinCaughtUp: async (arg) => { calls.push({ name: 'waitJoinCaughtUp', arg }); return {}; },
  subscribeFromSlot: async (arg) => { calls.push({ name: 'subscribeFromSlot', arg }); return { name: 'sub', from: '0/300' }; },
  nodeLeader: async (arg) => { calls.push({ name: 'nodeLeader', arg }); return 'db1-n1-x'; },
  runBackup: async (arg) => { calls.push({ name: 'runBackup', arg }); return { lines: [] }; },
};

let client: Client;
let workers: Worker[];
let running: Promise<unknown>;

beforeAll(async () => {
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  const stack = inject('stack');
  const connection = await connectWorker(stack.temporalAddress);
  workers = [
    await Worker.create({ connection, namespace: workflowTestNamespace, dataConverter: dataConverter(testSecretKey()), taskQueue: taskQueues.controlPlane, workflowBundle: await bundleWorkflows(), activities: controlPlane }),
    await Worker.create({ connection, namespace: workflowTestNamespace, dataConverter: dataConverter(testSecretKey()), taskQueue: taskQueues.host('host-1'), activities: host, ...hostWorkerTuning }),
  ];
  running = Promise.all(workers.map((w) => w.run()));
  client = await testTemporalClient(stack.temporalAddress, workflowTestNamespace);
});
afterAll(async () => {
  for (const w of workers ?? []) w.shutdown();
  await running;
  await client?.connection.close();
});
beforeEach(() => {
  calls.length = 0;
  behaviour = { ensureInstance: async () => undefined, waitForInstance: async () => undefined, startJoinCopy: async () => undefined, acquireDatabaseLock: async () => undefined };
});

const start = () => client.workflow.start('createDatabase', { workflowId: uuidv7(), taskQueue: taskQueues.controlPlane, args: [{ databaseId: 'db1' }] });
const count = (name: string) => calls.filter((c) => c.name === name).length;
const states = () => calls.filter((c) => c.name === 'setDatabaseState').map((c) => c.arg as { state: string; error?: string });

describe('createDatabase orchestration', () => {
  it('runs the plan in order: network, instances, databases, the full mesh, then available', async () => {
    await (await start()).result();
    const order = calls.map((c) => c.name);
    expect(order.indexOf('ensureDatabaseNetwork')).toBeLessThan(order.indexOf('ensureInstance'));
    expect(order.lastIndexOf('waitForInstance')).toBeLessThan(order.indexOf('ensureNodeDatabase'));
    expect(order.lastIndexOf('ensureNodeDatabase')).toBeLessThan(order.indexOf('ensureSubscription'));
    expect(count('ensureSubscription')).toBe(2);
    expect(states()).toEqual([{ databaseId: 'db1', state: 'available', instanceState: 'available' }]);
  });

  it('retries a transient failure of an idempotent step and completes', async () => {
    let failures = 0;
    behaviour.ensureInstance = async () => {
      if (failures < 4) { failures++; throw new Error('connect ECONNREFUSED /var/run/docker.sock'); }
    };
    await (await start()).result();
    expect(count('ensureInstance')).toBe(6); // two instances, four failed attempts between them
    expect(states().at(-1)?.state).toBe('available');
  });

  it('fails fast on a permanent failure, with its message on the task and the database failed', async () => {
    behaviour.ensureInstance = async () => { throw ApplicationFailure.nonRetryable('image pgcp/postgres:17-x is not built on host-1', 'ImageMissing'); };
    const handle = await start();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toBe('image pgcp/postgres:17-x is not built on host-1');
    expect(count('ensureInstance')).toBeLessThanOrEqual(2); // no retry: at most once per instance
    expect(states().at(-1)).toMatchObject({ state: 'failed', instanceState: 'failed', error: 'image pgcp/postgres:17-x is not built on host-1' });
  });

  it('cancelled mid-step: the running activity is cancelled, the database marked failed, the task canceled', async () => {
    let sawCancel = false;
    behaviour.waitForInstance = async () => {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        try {
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 200))]);
        } catch (err) {
          sawCancel = true;
          throw err;
        }
      }
    };
    const handle = await start();
    await waitFor('a wait step running', async () => count('waitForInstance') > 0, 20_000, 100);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await waitFor('activity saw the cancellation', async () => sawCancel, 20_000, 100);
    expect(states().at(-1)).toMatchObject({ state: 'failed', error: 'task canceled' });
  });
});

describe('updateDatabase orchestration: adding n3 to n1, n2', () => {
  const withN3 = { ...spec, nodes: [...spec.nodes, { name: 'n3', host_ids: ['host-1'] }] };
  const update = async () => {
    currentSpec = withN3;
    try {
      const handle = await client.workflow.start('updateDatabase', { workflowId: uuidv7(), taskQueue: taskQueues.controlPlane, args: [{ databaseId: 'db1' }] });
      return await handle.result().catch((e: unknown) => e);
    } finally {
      currentSpec = spec;
    }
  };

  it('runs the join protocol in order and hands the paused positions to the new node', async () => {
    expect(await update()).toBeUndefined();
    const order = calls.map((c) => c.name);
    const seq = ['copyRoles', 'prepareJoinSubscriptions', 'reserveJoinSlot', 'waitSourceApplied', 'pauseSourceIntake', 'setJoinStartPositions',
      'startJoinCopy', 'resumeSourceIntake', 'finishJoinCopy', 'enableJoinSubscriptions', 'waitJoinCaughtUp', 'subscribeFromSlot', 'markNodesJoined'];
    expect(seq.map((n) => order.indexOf(n))).toEqual([...seq.map((n) => order.indexOf(n))].sort((a, b) => a - b));
    expect(calls.find((c) => c.name === 'setJoinStartPositions')?.arg).toEqual({ databaseId: 'db1', nodeName: 'n3', positions: { n2: '0/200' } });
    expect(calls.find((c) => c.name === 'waitSourceApplied')?.arg).toMatchObject({ source: 'n1', provider: 'n2', lsn: '0/100' });
    expect(count('subscribeFromSlot')).toBe(2); // n1 and n2 subscribe to n3
    expect(states().at(-1)?.state).toBe('available');
  });

  it('a copy that fails after the source paused its intake still resumes it, and the task fails', async () => {
    behaviour.startJoinCopy = async () => { throw ApplicationFailure.nonRetryable('the copy of sub_n3n1 stopped', 'Replication'); };
    const err = await update();
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(count('resumeSourceIntake')).toBe(1);
    expect(calls.map((c) => c.name).indexOf('resumeSourceIntake')).toBeGreaterThan(calls.map((c) => c.name).indexOf('startJoinCopy'));
    expect(count('finishJoinCopy')).toBe(0);
    expect(count('markNodesJoined')).toBe(0);
    expect(states().at(-1)).toMatchObject({ state: 'failed', error: 'the copy of sub_n3n1 stopped' });
  });

  it('a join that fails after reserving its slots releases them on the source and every peer before the task fails', async () => {
    behaviour.startJoinCopy = async () => { throw ApplicationFailure.nonRetryable('the copy of sub_n3n1 stopped', 'Replication'); };
    expect(await update()).toBeInstanceOf(WorkflowFailedError);
    const released = calls.filter((c) => c.name === 'releaseJoinSlots').map((c) => c.arg as { nodeName: string; providers: string[]; known: Record<string, string> });
    expect(released.flatMap((r) => r.providers).sort()).toEqual(['n1', 'n2']);
    expect(released.every((r) => r.nodeName === 'n3' && r.known.n2 === 'pgl_app_n2_sub_n3n2')).toBe(true); // the name the subscription recorded
    const order = calls.map((c) => c.name);
    expect(order.indexOf('releaseJoinSlots')).toBeGreaterThan(order.indexOf('reserveJoinSlot'));
    expect(order.indexOf('releaseJoinSlots')).toBeLessThan(order.findIndex((c, i) => c === 'setDatabaseState' && i > order.indexOf('startJoinCopy')));
    expect(states().at(-1)).toMatchObject({ state: 'failed', error: 'the copy of sub_n3n1 stopped' });
  });

  it('a join that succeeds releases nothing', async () => {
    expect(await update()).toBeUndefined();
    expect(count('releaseJoinSlots')).toBe(0);
  });
});

describe('a host whose agent is down', () => {
  it('fails the task naming the host once its step has waited the pickup timeout, and lists the error from the memo', async () => {
    currentSpec = { ...spec, nodes: [spec.nodes[0]!, { name: 'n2', host_ids: ['host-9'] }] }; // no worker polls host.host-9
    try {
      const handle = await start();
      const err = await handle.result().catch((e: unknown) => e);
      expect((err as WorkflowFailedError).cause?.message).toMatch(/^host host-9 is not running its agent: ".*" waited 2 minutes for it$/);
      expect(states().at(-1)).toMatchObject({ state: 'failed', error: expect.stringContaining('host host-9 is not running its agent') });
      expect((await handle.describe()).memo?.error).toMatch(/^host host-9 is not running its agent/);
    } finally {
      currentSpec = spec;
    }
  }, 170_000);
});

describe('control-plane steps', () => {
  it('retry for hours through a store or etcd outage, not 8 attempts in about a minute', async () => {
    const handle = await start();
    await handle.result();
    const scheduled = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'setDatabaseState');
    expect(scheduled).toHaveLength(1);
    const a = scheduled[0]!;
    expect(a.retryPolicy?.maximumAttempts ?? 0).toBe(0); // unlimited attempts, bounded by the schedule-to-close timeout
    expect(Number(String(a.scheduleToCloseTimeout?.seconds ?? 0))).toBeGreaterThanOrEqual(3600);
  });
});

describe('a forced delete', () => {
  it('cancels the task it took the lock from and waits for it to end before it removes anything', async () => {
    behaviour.waitForInstance = async () => {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        try {
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 200))]);
        } catch (err) {
          calls.push({ name: 'create step cancelled', arg: null });
          throw err;
        }
      }
    };
    const create = await start();
    await waitFor('a wait step of the create running', async () => count('waitForInstance') > 0, 20_000, 100);
    const del = await client.workflow.start('deleteDatabase', { workflowId: uuidv7(), taskQueue: taskQueues.controlPlane, args: [{ databaseId: 'db1', supersedes: create.workflowId }] });
    await del.result();
    expect((await create.describe()).status.name).toBe('CANCELLED');
    const order = calls.map((c) => c.name);
    expect(order.indexOf('create step cancelled')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('create step cancelled')).toBeLessThan(order.indexOf('removeInstance'));
    expect(order.indexOf('removeInstance')).toBeLessThan(order.indexOf('removeDatabaseNetwork'));
  });
});

describe('a scheduled backup', () => {
  const busy = () => ApplicationFailure.nonRetryable('database db1 is busy: task t-update (update) holds its lock', 'Refused');

  it('that fires while an update holds the lock waits for it to end, then backs up', async () => {
    let refusals = 1;
    behaviour.acquireDatabaseLock = async () => { if (refusals-- > 0) throw busy(); };
    const run = await client.workflow.start('scheduledBackup', { workflowId: uuidv7(), taskQueue: taskQueues.controlPlane, args: [{ databaseId: 'db1', nodeName: 'n1', type: 'full' }] });
    await run.result();
    expect(count('acquireDatabaseLock')).toBe(2);
    expect(count('runBackup')).toBe(1);
  }, 60_000);

  it('asked for through the API, fails at once on a busy lock without backing up', async () => {
    behaviour.acquireDatabaseLock = async () => { throw busy(); };
    const run = await client.workflow.start('nodeBackup', { workflowId: uuidv7(), taskQueue: taskQueues.controlPlane, args: [{ databaseId: 'db1', nodeName: 'n1', hostId: 'host-1', type: 'full' }] });
    const err = await run.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/is busy: task t-update \(update\) holds its lock/);
    expect(count('acquireDatabaseLock')).toBe(1);
    expect(count('runBackup')).toBe(0);
  });
});
