// Creates a two-node database, adds a third node and waits for each task — over REST with the SDK's client, or
// (--via temporal) through the SDK's Temporal trigger from a program that has its own Temporal client and reaches
// the store. Either way the tasks are the same: listed by GET /v1/databases/<id>/tasks, shown in the Temporal UI.
//   npm start                                      # in another terminal; then once: curl localhost:3000/v1/cluster/init
//   npx tsx examples/create-and-add-node.ts [--via rest|temporal] [--id example-sdk] [--port 6500]
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createPgcpClient, isPgcpError, type DatabaseSpec } from 'pgcp';
import { createTemporalTrigger, pgcpDataConverter } from 'pgcp/temporal';
import { loadConfig } from '../platform/config.js';

const { values } = parseArgs({ options: { via: { type: 'string', default: 'rest' }, id: { type: 'string', default: 'example-sdk' }, port: { type: 'string', default: '6500' } } });
const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const port = Number(values.port);
const spec = (nodes: number): DatabaseSpec => ({
  database_name: 'example',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: Array.from({ length: nodes }, (_, i) => ({ name: `n${i + 1}`, host_ids: ['host-1'], port: port + i })),
});

// Waiting and progress always go through the REST client: it follows the task log as it happens.
const api = createPgcpClient({ baseUrl: env('PGCP_API_URL', 'http://127.0.0.1:3000') });
const progress = { onEntry: (e: { timestamp: string; message: string }) => console.log(`  ${e.timestamp} ${e.message}`) };

if (values.via === 'temporal') {
  const connection = await Connection.connect({ address: env('PGCP_TEMPORAL_ADDRESS', '127.0.0.1:7233') });
  const trigger = createTemporalTrigger({
    // the control plane's payload codec (its key: PGCP_SECRET_KEY or the key file under PGCP_DATA_DIR, .data/secret.key)
    temporal: new Client({ connection, namespace: env('PGCP_NAMESPACE', 'pgcp'), dataConverter: pgcpDataConverter() }),
    store: loadConfig().storeUrl, // PGCP_STORE_URL, else npm start's store with its password (.data/secrets)
  });
  try {
    const created = await trigger.createDatabase({ id: values.id, spec: spec(2) });
    console.log(`create task ${created.task.task_id} (started through Temporal)`);
    await api.waitForTask(values.id, created.task.task_id, progress);
    const added = await trigger.updateDatabase(values.id, { spec: spec(3) });
    if ('task' in added) {
      console.log(`update task ${added.task.task_id}: adding n3`);
      await api.waitForTask(values.id, added.task.task_id, progress);
    }
  } finally {
    await trigger.close();
    await connection.close();
  }
} else {
  try {
    const created = await api.createDatabase({ id: values.id, spec: spec(2) });
    console.log(`create task ${created.task.task_id}`);
    await api.waitForTask(values.id, created.task.task_id, progress);
  } catch (err) {
    if (!isPgcpError(err, 'database_already_exists')) throw err;
    console.log(`${values.id} exists already: adding the node only`);
  }
  const added = await api.updateDatabase(values.id, { spec: spec(3) });
  if ('task' in added) {
    console.log(`update task ${added.task.task_id}: adding n3`);
    await api.waitForTask(values.id, added.task.task_id, progress);
  }
}
const status = await api.getStatus(values.id);
for (const s of status.subscriptions) console.log(`${s.name}: ${s.status}, lag ${s.lag_bytes ?? 'n/a'} bytes / ${s.lag_seconds ?? 'n/a'} s`);
