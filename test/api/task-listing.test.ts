// Task listing on a real Temporal server: the API answers from its index of the namespace's tasks (api/tasks.ts),
// which must page exactly as a sort by task id would, show a task started by someone else (the agent's failover, a
// schedule's backup) and its end within about two seconds, and a task this process starts at once.
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Runtime, Worker } from '@temporalio/worker';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startRemoveHostTask, warmTaskListing } from '../../api/tasks.js';
import { projectRoot } from '../../platform/config.js';
import { dataConverter } from '../../platform/payload-codec.js';
import { connectWorker, ensureNamespace } from '../../platform/temporal.js';
import { taskSearchAttributes } from '../../workflows/model/search-attributes.js';
import { apiClient, type ApiCall } from '../support/api-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { testSecretKey, testTemporalClient } from '../support/secret-key.js';
import { waitFor } from '../support/wait.js';

const namespace = 'pgcp-test-listing';
const queue = 'listing-test';
const run = uuidv7().slice(-8); // the namespace outlives a run: this run's databases are its own
const dbA = `listed-a-${run}`;
const dbB = `listed-b-${run}`;

let t: TestApp;
let call: ApiCall;
let client: Client; // the API's
let other: Client; // another process's (the agent, a schedule): its starts reach the API only through visibility
let worker: Worker;
let running: Promise<void>;
const started: Record<string, string[]> = { [dbA]: [], [dbB]: [] };
const leftovers: string[] = [];

beforeAll(async () => {
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  const stack = inject('stack');
  await ensureNamespace(stack.temporalAddress, namespace);
  client = await testTemporalClient(stack.temporalAddress, namespace);
  other = await testTemporalClient(stack.temporalAddress, namespace);
  worker = await Worker.create({
    connection: await connectWorker(stack.temporalAddress), namespace, taskQueue: queue, dataConverter: dataConverter(testSecretKey()),
    workflowsPath: path.join(projectRoot, 'test', 'support', 'listing-workflows.ts'),
  });
  running = worker.run();
  // 12 ended tasks of dbA and 7 of dbB, started in an order unrelated to their ids' order of completion
  await Promise.all(Array.from({ length: 19 }, async (_, i) => {
    const db = i % 3 === 2 || i >= 16 ? dbB : dbA;
    const id = uuidv7();
    started[db]!.push(id);
    await other.workflow.execute('quickTask', { workflowId: id, taskQueue: queue, typedSearchAttributes: taskSearchAttributes({ type: 'update', databaseId: db }) });
  }));
  await waitFor('visibility to show the ended tasks', async () => (await other.workflow.count(`EntityId IN ('${dbA}', '${dbB}') AND ExecutionStatus = 'Completed'`)).count === 19, 30_000, 200);
  t = await createTestApp({ temporal: client });
  call = apiClient(t.app);
  expect((await call('GET', '/v1/cluster/init')).status).toBe(200);
  await warmTaskListing(client);
}, 120_000);

afterAll(async () => {
  for (const id of leftovers) await other.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  worker?.shutdown();
  await running;
  await t?.db.drop();
  await client?.connection.close();
  await other?.connection.close();
});

const ids = async (p: string) => {
  const res = await call('GET', p);
  expect(res.status, res.text).toBe(200);
  return (res.body.tasks as { task_id: string }[]).map((x) => x.task_id);
};

describe('task listing', () => {
  it('pages by task id, newest first by default, in both orders, with a cursor, per database and across the namespace', async () => {
    const asc = [...started[dbA]!].sort();
    expect(await ids(`/v1/databases/${dbA}/tasks`)).toEqual([...asc].reverse());
    expect(await ids(`/v1/databases/${dbA}/tasks?sort_order=asc&limit=5`)).toEqual(asc.slice(0, 5));
    // walking page by page with the last id as the cursor gives every task once, in order
    const walked: string[] = [];
    for (let after = ''; ;) {
      const page = await ids(`/v1/databases/${dbA}/tasks?sort_order=asc&limit=5${after ? `&after_task_id=${after}` : ''}`);
      if (page.length === 0) break;
      walked.push(...page);
      after = page.at(-1)!;
    }
    expect(walked).toEqual(asc);
    expect(await ids(`/v1/databases/${dbA}/tasks?sort_order=desc&limit=3&after_task_id=${asc[6]}`)).toEqual(asc.slice(3, 6).reverse());
    expect(await ids(`/v1/tasks?scope=database&entity_id=${dbB}`)).toEqual([...started[dbB]!].sort().reverse());
    const everything = await ids('/v1/tasks?limit=1000');
    expect(everything).toEqual([...everything].sort().reverse());
    expect(everything.slice(0, 19).sort()).toEqual([...started[dbA]!, ...started[dbB]!].sort());
  });

  it('answers pages from its index: distinct pages asked in a row cost no visibility search each', async () => {
    // what scaled with requests before: every distinct page (filter, order, cursor, limit) was a count and a list
    const service = client.workflowService as unknown as Record<'listWorkflowExecutions' | 'countWorkflowExecutions', (r: unknown) => Promise<unknown>>;
    const searches: string[] = [];
    const original = { list: service.listWorkflowExecutions, count: service.countWorkflowExecutions };
    service.listWorkflowExecutions = (r) => { searches.push('list'); return original.list.call(client.workflowService, r); };
    service.countWorkflowExecutions = (r) => { searches.push('count'); return original.count.call(client.workflowService, r); };
    try {
      const asc = [...started[dbA]!].sort();
      for (let i = 0; i < 40; i++) {
        const limit = 1 + (i % 4);
        const after = asc[i % asc.length]!;
        expect(await ids(`/v1/databases/${dbA}/tasks?sort_order=asc&limit=${limit}&after_task_id=${after}`)).toEqual(asc.filter((id) => id > after).slice(0, limit));
      }
    } finally {
      Object.assign(service, { listWorkflowExecutions: original.list, countWorkflowExecutions: original.count });
    }
    // at most the index's own refreshes (one small list a second) ran meanwhile
    expect(searches.filter((s) => s === 'count')).toEqual([]);
    expect(searches.length).toBeLessThanOrEqual(5);
  });

  it('shows a task started by another process within two seconds, and its end within two more', async () => {
    const id = uuidv7();
    leftovers.push(id);
    const handle = await other.workflow.start('waitingTask', { workflowId: id, taskQueue: queue, typedSearchAttributes: taskSearchAttributes({ type: 'failover', databaseId: dbB, nodeName: 'n1' }) });
    const listed = async () => ((await call('GET', `/v1/databases/${dbB}/tasks?limit=1`)).body.tasks as { task_id: string; status: string; type: string; node_name?: string; completed_at?: string }[])[0];
    let t0 = Date.now();
    const shown = await waitFor('the task in the listing', async () => ((await listed())?.task_id === id ? listed() : null), 2500, 100);
    const appearedMs = Date.now() - t0;
    expect({ type: shown.type, node_name: shown.node_name }).toEqual({ type: 'failover', node_name: 'n1' });
    await waitFor('the task to be listed as running', async () => (await listed())?.status === 'running', 2500, 100);
    await handle.signal('finish');
    await handle.result();
    t0 = Date.now();
    const ended = await waitFor('the task listed as completed', async () => { const x = await listed(); return x?.status === 'completed' ? x : null; }, 2500, 100);
    expect(ended.completed_at).toBeTruthy();
    console.log(`listed ${appearedMs} ms after its start, completed ${Date.now() - t0} ms after its end`);
  });

  it('lists a task this process starts at once, before visibility has it', async () => {
    const hostId = `host-listed-${run}`;
    const { task } = await startRemoveHostTask(client, hostId, true, []); // no worker polls its queue here: it stays pending
    leftovers.push(task.task_id);
    const [first] = (await call('GET', `/v1/hosts/${hostId}/tasks`)).body.tasks as { task_id: string; status: string; type: string }[];
    expect(first).toMatchObject({ task_id: task.task_id, status: 'pending', type: 'remove_host' });
  });
});
