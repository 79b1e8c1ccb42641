// Orchestration only: the real workflows against stub activities, on a real Temporal server. Transient failures
// are retried, permanent ones fail the task at once, and a cancelled task still marks its database failed.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { Runtime, Worker } from '@temporalio/worker';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, beforeEach, describe, expect, it, inject } from 'vitest';
import type { ControlPlaneActivities, HostActivities } from '../../activities/index.js';
import { connectWorker } from '../../worker/temporal.js';
import { bundleWorkflows, hostWorkerTuning } from '../../worker/workers.js';
import { taskQueues } from '../../workflows/model/search-attributes.js';
import { workflowTestNamespace } from '../support/global-setup.js';
import { waitFor } from '../support/wait.js';

const spec = { database_name: 'app', postgres_version: '17.12', spock_version: '5', nodes: [{ name: 'n1', host_ids: ['host-1'] }, { name: 'n2', host_ids: ['host-1'] }] };
const calls: { name: string; arg: unknown }[] = [];
let behaviour: { ensureInstance: () => Promise<void>; waitForInstance: () => Promise<void> };
const record = (name: string) => async (arg: unknown) => { calls.push({ name, arg }); };

const controlPlane: Partial<ControlPlaneActivities> = {
  getDatabaseSpec: async () => spec,
  recordPlan: record('recordPlan'),
  recordInstances: record('recordInstances'),
  clearNodeDcs: async (arg) => { calls.push({ name: 'clearNodeDcs', arg }); return 0; },
  setDatabaseState: record('setDatabaseState'),
  markNodesJoined: record('markNodesJoined'),
};
const host: Partial<HostActivities> = {
  ensureDatabaseNetwork: record('ensureDatabaseNetwork'),
  ensureInstance: async (arg) => { calls.push({ name: 'ensureInstance', arg }); await behaviour.ensureInstance(); return { containerId: 'c', recreated: false }; },
  waitForInstance: async (arg) => { calls.push({ name: 'waitForInstance', arg }); await behaviour.waitForInstance(); return { role: 'primary' }; },
  ensureNodeDatabase: async (arg) => { calls.push({ name: 'ensureNodeDatabase', arg }); return { primary: 'x', droppedUsers: [] }; },
  ensureSubscription: async (arg) => { calls.push({ name: 'ensureSubscription', arg }); return { name: 'sub' }; },
  waitForReplication: record('waitForReplication'),
};

let client: Client;
let workers: Worker[];
let running: Promise<unknown>;

beforeAll(async () => {
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  const stack = inject('stack');
  const connection = await connectWorker(stack.temporalAddress);
  workers = [
    await Worker.create({ connection, namespace: workflowTestNamespace, taskQueue: taskQueues.controlPlane, workflowBundle: await bundleWorkflows(), activities: controlPlane }),
    await Worker.create({ connection, namespace: workflowTestNamespace, taskQueue: taskQueues.host('host-1'), activities: host, ...hostWorkerTuning }),
  ];
  running = Promise.all(workers.map((w) => w.run()));
  client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: workflowTestNamespace });
});
afterAll(async () => {
  for (const w of workers ?? []) w.shutdown();
  await running;
  await client?.connection.close();
});
beforeEach(() => {
  calls.length = 0;
  behaviour = { ensureInstance: async () => undefined, waitForInstance: async () => undefined };
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
