// Backups to object stores, for real, over TLS: one node archiving its WAL to an S3 (moto), a GCS (fake-gcs-server)
// and an Azure Blob (Azurite) repository at once, a full backup into each, and an in-place point-in-time restore
// from each. The emulators run on this host with a throwaway CA; the instances reach them by a name mapped to the
// docker0 address (PGCP_CONTAINER_EXTRA_HOSTS) and trust the CA through custom_options storage-ca-file. The keys
// never come back: not in responses, task logs, nor workflow histories.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { startObjectStores, type ObjectStores } from '../support/object-stores.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
let stores: ObjectStores;
const id = `os-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
const secrets: string[] = [];

const repositories = () => {
  // bundle: small files in one object each, a backup to an emulator takes 3 s instead of 12
  const tls = { 'storage-ca-file': stores.caFile, bundle: 'y' };
  return {
    s3: {
      id: 'aws', type: 's3', s3_bucket: `${id}-s3`, s3_region: stores.s3.region, s3_endpoint: stores.s3.endpoint, s3_key: stores.s3.key, s3_key_secret: stores.s3.secret,
      custom_options: { ...tls, 's3-uri-style': 'path', 'storage-port': String(stores.s3.port) },
    },
    gcs: { id: 'gcp', type: 'gcs', gcs_bucket: `${id}-gcs`, gcs_endpoint: stores.gcs.endpoint, gcs_key: stores.gcs.token, custom_options: tls },
    azure: {
      id: 'az', type: 'azure', azure_account: stores.azure.account, azure_container: `${id}-az`, azure_endpoint: stores.azure.endpoint, azure_key: stores.azure.key,
      custom_options: { ...tls, 'azure-uri-style': 'path', 'storage-port': String(stores.azure.port) },
    },
  };
};
const spec = (repos: object[]) => ({
  database_name: 'app',
  database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }],
  nodes: [{ name: 'n1', host_ids: ['host-1'], port }],
  backup_config: { repositories: repos },
});

const finished = (taskId: string) => waitForTask(s.call, id, taskId, { intervalMs: 500 });
const sql = (text: string) => query(nodeConnection(port, { password: 'password' }), text);
const taskLog = async (taskId: string) => JSON.stringify((await s.call('GET', `/v1/databases/${id}/tasks/${taskId}/log`)).body);
const history = async (taskId: string) => JSON.stringify((await s.workers.client.workflow.getHandle(taskId).fetchHistory()).events);
const expectNoSecret = (where: string, text: string) => {
  for (const secret of secrets) expect(text.includes(secret), `a repository key in ${where}`).toBe(false);
};

beforeAll(async () => {
  stores = await startObjectStores();
  secrets.push(stores.s3.key, stores.s3.secret, stores.gcs.token, stores.azure.key);
  const r = repositories();
  await stores.createBucket('s3', r.s3.s3_bucket);
  await stores.createBucket('gcs', r.gcs.gcs_bucket);
  await stores.createBucket('azure', r.azure.azure_container);
  s = await startApiStack(['host-1', 'host-2'], { containerExtraHosts: [stores.extraHost] });
}, 300_000);

afterAll(async () => {
  if (s) await forceDeleteDatabase(s.call, id);
  await s?.stop();
  await stores?.stop();
});

it('refuses object-store repositories missing what their type needs, naming the field', async () => {
  const { s3, azure } = repositories();
  const noBucket = await s.call('POST', '/v1/databases', { id, spec: spec([{ ...s3, s3_bucket: undefined }]) });
  expect(noBucket).toMatchObject({ status: 400, body: { name: 'invalid_input', message: expect.stringContaining('backup_config.repositories[0].s3_bucket') } });
  const noKey = await s.call('POST', '/v1/databases', { id, spec: spec([{ ...azure, azure_key: undefined }]) });
  expect(noKey.body.message).toContain('backup_config.repositories[0].azure_key');
  expect((await s.call('GET', `/v1/databases/${id}`)).status).toBe(404); // nothing left behind
});

it('one node archives to S3, GCS and Azure at once; a full backup lands in each; no key is ever shown', async () => {
  const { s3, gcs, azure } = repositories();
  const created = await s.call('POST', '/v1/databases', { id, spec: spec([s3, gcs, azure]) });
  expect(created.status, created.text).toBe(200);
  expectNoSecret('the create response', created.text);
  const task = await finished(created.body.task.task_id);
  expect(task.status, task.error).toBe('completed');
  await sql('CREATE TABLE t (id text PRIMARY KEY)');
  await sql("INSERT INTO t SELECT 'a' || g FROM generate_series(1, 100) g");

  for (const [repo, kind] of [[1, 's3'], [2, 'gcs'], [3, 'azure']] as const) {
    const started = Date.now();
    const r = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full', backup_options: { repo: String(repo) } });
    expect(r.status, r.text).toBe(200);
    const done = await finished(r.body.task.task_id);
    expect(done.status, `${kind}: ${done.error}`).toBe('completed');
    console.log(`full backup to ${kind}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const log = await taskLog(done.task_id);
    expect(log).toMatch(/new backup label = \d{8}-\d{6}F/);
    expectNoSecret(`the ${kind} backup's task log`, log);
    expectNoSecret(`the ${kind} backup's history`, await history(done.task_id));
  }
  const view = await s.call('GET', `/v1/databases/${id}`);
  expectNoSecret('GET /v1/databases/{id}', view.text);
  expect(view.body.spec.backup_config.repositories.map((x: { type: string }) => x.type)).toEqual(['s3', 'gcs', 'azure']);
  expectNoSecret('GET /v1/databases', (await s.call('GET', '/v1/databases')).text);
  expectNoSecret('the create task\'s log', await taskLog(task.task_id));
  expectNoSecret('the create task\'s history', await history(task.task_id));
});

it('an update that omits the keys keeps them: the next Azure backup still authenticates', async () => {
  const shown = (await s.call('GET', `/v1/databases/${id}`)).body.spec;
  const up = await s.call('POST', `/v1/databases/${id}`, { spec: shown });
  expect(up.status, up.text).toBe(200);
  expect((await finished(up.body.task.task_id)).status).toBe('completed');
  const r = await s.call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'incr', backup_options: { repo: '3' } });
  const done = await finished(r.body.task.task_id);
  expect(done.status, done.error).toBe('completed');
  expect(await taskLog(done.task_id)).toMatch(/new backup label = \d{8}-\d{6}F_\d{8}-\d{6}I/);
});

it('restores n1 in place to a point in time from each store in turn', async () => {
  const repos = repositories();
  for (const [kind, withKeys] of [['s3', true], ['gcs', false], ['azure', false]] as const) {
    await sql(`INSERT INTO t VALUES ('${kind}-before')`);
    const target = (await sql("SELECT (now() + interval '1 second')::text AS t"))[0].t as string;
    await new Promise((r) => setTimeout(r, 2000));
    await sql(`INSERT INTO t VALUES ('${kind}-after')`);
    // the keys may be left out when the repository is one of the node's own
    const repository = withKeys ? repos[kind] : (JSON.parse(JSON.stringify(repos[kind], (k, v) => (['s3_key', 's3_key_secret', 'gcs_key', 'azure_key'].includes(k) ? undefined : v))) as object);
    const started = Date.now();
    const r = await s.call('POST', `/v1/databases/${id}/restore`, {
      restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository, restore_options: { type: 'time', target } },
    });
    expect(r.status, r.text).toBe(200);
    expectNoSecret('the restore response', r.text);
    const task = await finished(r.body.task.task_id);
    expect(task.status, `${kind}: ${task.error}`).toBe('completed');
    console.log(`in-place restore from ${kind}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const rows = (await sql(`SELECT id FROM t WHERE id LIKE '${kind}-%' ORDER BY id`)).map((x) => x.id);
    expect(rows, `n1 restored from ${kind} to ${target}`).toEqual([`${kind}-before`]);
    expect((await sql("SELECT count(*)::int AS n FROM t WHERE id ~ '^a[0-9]+$'"))[0].n).toBe(100);
    const kept = await s.db.store.query('SELECT restore_secrets FROM databases WHERE id = $1', [id]);
    expect(kept.rows[0].restore_secrets, 'the restore\'s keys are forgotten when it ends').toBeNull();
    const child = r.body.node_tasks[0].task_id as string;
    expect(await taskLog(child)).toContain('restore command end: completed successfully');
    for (const t of [task.task_id, child]) {
      expectNoSecret(`the ${kind} restore's task log`, await taskLog(t));
      expectNoSecret(`the ${kind} restore's history`, await history(t));
    }
  }
});

it('a new database created from the GCS backup, its node with a replica on another host, holds the rows on both', async () => {
  const copy = `${id}-copy`;
  const copyPort = port + 1;
  const { gcs } = repositories();
  const r = await s.call('POST', '/v1/databases', {
    id: copy,
    spec: {
      ...spec([gcs]), database_name: 'copy',
      nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], port: copyPort }],
      backup_config: { repositories: [{ ...gcs, base_path: '/copies' }] }, // its own backups go elsewhere in the bucket
      restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository: gcs },
    },
  });
  expect(r.status, r.text).toBe(200);
  expectNoSecret('the create-from-backup response', r.text);
  try {
    const task = await waitForTask(s.call, copy, r.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
    const count = async (host: string) => (await query(nodeConnection(copyPort, { host, password: 'password', database: 'copy' }), "SELECT count(*)::int AS n FROM t WHERE id ~ '^a[0-9]+$'"))[0].n;
    expect(await count('127.0.0.1')).toBe(100); // the primary, on host-1
    expect(await waitFor('the rows on the replica', async () => (await count('127.0.0.2')) === 100 || null, 60_000)).toBe(true);
    const view = await s.call('GET', `/v1/databases/${copy}`);
    expect(view.body.instances.map((i: { postgres?: { role?: string } }) => i.postgres?.role).sort()).toEqual(['primary', 'replica']);
    expectNoSecret('the copy\'s view', view.text);
    // the spec as GET shows it (no keys, the store's key order) goes back as an update
    const resent = await s.call('POST', `/v1/databases/${copy}`, { spec: view.body.spec });
    expect(resent.status, resent.text).toBe(200);
    expect((await waitForTask(s.call, copy, resent.body.task.task_id, { timeoutMs: 120_000 })).status).toBe('completed');
    expectNoSecret('the copy\'s create history', await history(task.task_id));
  } finally {
    const del = await s.call('DELETE', `/v1/databases/${copy}?force=true`);
    if (del.status === 200) await waitFor('copy deleted', async () => (await s.call('GET', `/v1/databases/${copy}`)).status === 404, 120_000, 1000);
  }
});
