// Benchmark: task listing with 10,000 tasks in the namespace. autocannon offers 200 req/s (10 connections) to
// GET /v1/databases/{id}/tasks and GET /v1/tasks, beside GET /v1/databases/{id} (a store read) as the baseline, in
// one run; prints p50/p99, errors and the p99 ratio against the baseline. Uses its own namespace and store database
// on the running stack (or starts one). Usage: npm run bench:tasks [-- --tasks 10000 --seconds 15]
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '../api/app.js';
import { warmTaskListing } from '../api/tasks.js';
import { loadConfig, projectRoot } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectClient } from '../platform/temporal.js';
import { dataConverter } from '../platform/payload-codec.js';
import { createSecretBox } from '../platform/secret-box.js';
import { readOrCreateKeyFile } from '../platform/secret-key.js';
import { stackSecretsDir, startStack, stackPorts, stopStack, storeUrl } from '../scripts/stack.js';
import { createStore, migrate } from '../store/db.js';
import { insertDatabase, newDatabaseSecrets } from '../store/databases.js';
import { taskSearchAttributes, type TaskType } from '../workflows/model/search-attributes.js';
import { uuidv7 } from 'uuidv7';

const execFileAsync = promisify(execFile);
const { values } = parseArgs({ options: { tasks: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '15' } } });
const total = Number(values.tasks);
const namespace = 'pgcp-bench-tasks';
const queue = 'bench-tasks';
const databaseId = 'bench-db';

const dataDir = path.join(projectRoot, '.data', 'test-stack');
const services = await startStack({ dataDir, reuse: true, namespaces: [namespace], storeDatabases: ['pgcp_bench_tasks'] });
// the stack's store password is in its own data directory (or a reused npm start stack's)
const benchStoreUrl = storeUrl('pgcp_bench_tasks', stackSecretsDir(dataDir));
try {
  const temporalAddress = `127.0.0.1:${stackPorts.temporal}`;
  const secretKey = readOrCreateKeyFile(path.join(projectRoot, '.data', 'test-stack', 'secret.key'));
  const client = await connectClient(temporalAddress, namespace, { secretKey });
  const store = createStore(benchStoreUrl, createSecretBox(secretKey));
  await migrate(store);
  await store.query('DELETE FROM databases WHERE id = $1', [databaseId]);
  await insertDatabase(store, { id: databaseId, tenantId: null, spec: { database_name: 'bench', nodes: [{ name: 'n1', host_ids: ['host-1'] }] }, secrets: newDatabaseSecrets(), state: 'available' });

  // Fill the namespace: one task in five is the bench database's, one in a hundred fails.
  const have = (await client.workflow.count('TaskScope IS NOT NULL')).count;
  if (have < total) {
    const connection = await NativeConnection.connect({ address: temporalAddress });
    const worker = await Worker.create({ connection, namespace, dataConverter: dataConverter(secretKey), taskQueue: queue, workflowsPath: path.join(projectRoot, 'bench', 'support', 'listing-workflows.ts'), maxConcurrentWorkflowTaskExecutions: 50 });
    const running = worker.run();
    const t0 = performance.now();
    const types: TaskType[] = ['update', 'switchover', 'node_backup', 'restart_instance'];
    for (let i = have; i < total; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, total - i) }, (_, j) => {
        const n = i + j;
        const db = n % 5 === 0 ? databaseId : `other-${n % 37}`;
        return client.workflow.start('benchTask', {
          workflowId: uuidv7(), taskQueue: queue, args: [{ fail: n % 100 === 7 }],
          typedSearchAttributes: taskSearchAttributes({ type: types[n % types.length]!, databaseId: db }),
        });
      }));
    }
    while ((await client.workflow.count('TaskScope IS NOT NULL AND ExecutionStatus = "Running"')).count > 0) await new Promise((r) => setTimeout(r, 500));
    console.log(`seeded ${total - have} tasks in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    worker.shutdown();
    await running;
    await connection.close();
  }

  const config = loadConfig({ PGCP_STORE_URL: benchStoreUrl, PGCP_NAMESPACE: namespace });
  const app = createApp({ config, store, log: createLogger('silent', 'bench'), temporal: client, version: { version: 'bench', revision: '', revision_time: '', arch: '' } });
  // The API loads its task index at start (api/tasks.ts): measured apart, before the runs.
  const loadStarted = performance.now();
  await warmTaskListing(client);
  const indexLoadS = ((performance.now() - loadStarted) / 1000).toFixed(1);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const init = await fetch(`http://127.0.0.1:${port}/v1/cluster/init`);
  if (!init.ok && init.status !== 409) throw new Error(`cluster init: ${init.status} ${await init.text()}`);

  // autocannon in its own process (its CLI, JSON out): in this one it would share the API's event loop and add its
  // own pauses to every path's latency, the baseline's included.
  async function load(pathName: string, seconds = Number(values.seconds)) {
    const { stdout } = await execFileAsync(path.join(projectRoot, 'node_modules', '.bin', 'autocannon'),
      ['-j', '-c', '10', '-R', '200', '-d', String(seconds), `http://127.0.0.1:${port}${pathName}`], { maxBuffer: 16 * 1024 * 1024 });
    const r = JSON.parse(stdout) as { latency: { p50: number; p99: number }; requests: { total: number }; errors: number; timeouts: number; non2xx: number };
    return { path: pathName, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx };
  }

  console.log(`namespace ${namespace}: ${(await client.workflow.count('TaskScope IS NOT NULL')).count} tasks (task index loaded in ${indexLoadS} s); 200 req/s offered, 10 connections, ${values.seconds} s each after a 3 s warm-up of every path`);
  const paths = [`/v1/databases/${databaseId}`, `/v1/databases/${databaseId}/tasks`, '/v1/tasks', `/v1/databases/${databaseId}/tasks?limit=20`];
  // Steady state: each path is first served 3 s unmeasured (V8 compiles its code paths, pools fill), so the first
  // measured path does not pay the warm-up the later ones are spared.
  for (const p of paths) await load(p, 3);
  const rows: Awaited<ReturnType<typeof load>>[] = [];
  for (const p of paths) rows.push(await load(p));
  for (const r of rows) if (r.non2xx > 0) console.error(`${r.path}: ${r.non2xx} answers were not 2xx`);
  const base = rows[0]!.p99;
  console.table(rows.map((r) => ({ ...r, 'p99 / baseline': (r.p99 / base).toFixed(2) })));

  server.close();
  await store.end();
  await client.connection.close();
} finally {
  // also when anything above fails: a stack left running would be reused by the next suite under the lock
  await stopStack(services);
}
