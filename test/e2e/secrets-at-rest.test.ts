// Canary secrets (issue 15, "Done when"): a user's password, sent in a create and an update of a one-node database
// with log_statement=all, and the repository key (the database's pgBackRest cipher passphrase: the control plane
// generates it, and refuses cipher options in a spec), appear in no API
// response, task log, workflow history read without the codec's key (nor, for the passwords and the key, read with
// it: they are not in workflow inputs at all), container log, store column, nor any file under the data directories
// of the control plane (its store, Temporal SQLite file, etcd, logs, instance directories) — grepped as raw bytes.
// The password still works: a login with it succeeds, a changed one takes effect, an omitted one is kept.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { defaultRepositoryRoot, projectRoot } from '../../platform/config.js';
import { getRepositoryCipherPass } from '../../store/databases.js';
import { decodeHistoryPayloads, EncryptionCodec } from '../../platform/payload-codec.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { testSecretKey } from '../support/secret-key.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';

let s: ApiStack;
const rand = () => Math.random().toString(36).slice(2, 10);
const id = `sec-${rand().slice(0, 5)}`;
const port = 27000 + Math.floor(Math.random() * 800) * 2;
const basePath = path.join(defaultRepositoryRoot, 'test', id); // inside PGCP_REPOSITORY_ROOTS' default
const canary = { password: `canary-pw-${rand()}`, changed: `canary-pw2-${rand()}`, kept: `canary-keep-${rand()}`, key: `canary-key-${rand()}` };
const spec = {
  database_name: 'app',
  database_users: [
    { username: 'admin', password: canary.password, db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] },
    { username: 'keeper', password: canary.kept, attributes: ['LOGIN'] },
  ],
  postgresql_conf: { log_statement: 'all' },
  nodes: [{ name: 'n1', host_ids: ['host-1'], port }],
  backup_config: { repositories: [{ type: 'posix', base_path: basePath, }] },
};
const seen: string[] = []; // every response body
const taskIds: string[] = [];
const docker = createDocker();

async function call(method: string, p: string, body?: unknown) {
  const r = await s.call(method, p, body);
  seen.push(r.text);
  return r;
}
async function runTask(r: { status: number; text: string; body: any }) {
  expect(r.status, r.text).toBe(200);
  taskIds.push(r.body.task.task_id);
  const task = await waitForTask(call, id, r.body.task.task_id, { intervalMs: 500 });
  expect(task.status, task.error).toBe('completed');
  seen.push((await call('GET', `/v1/databases/${id}/tasks/${task.task_id}/log`)).text);
}
const login = (user: string, password: string) => query(nodeConnection(port, { user, password }), 'SELECT current_user AS u');
const secrets = () => Object.values(canary);
const found = (text: string) => secrets().filter((c) => text.includes(c));
/** Files holding any canary, as raw bytes (grep -a: binary files too), under `dir`. */
function filesWithCanaries(dir: string): string[] {
  try {
    return execFileSync('grep', ['-r', '-l', '-a', '-F', ...secrets().flatMap((c) => ['-e', c]), dir], { maxBuffer: 1 << 24 }).toString().split('\n').filter(Boolean);
  } catch (err) {
    if ((err as { status?: number }).status === 1) return []; // nothing found
    throw err;
  }
}
/**
 * A history as text with every byte string (payload data and metadata) as its bytes, so a clear value in a payload
 * shows (the proto objects' own toJSON would print base64, where a grep finds nothing).
 */
function rawJson(v: unknown): string {
  const bytes = (x: unknown): unknown => {
    if (x instanceof Uint8Array) return Buffer.from(x).toString('latin1');
    if (Array.isArray(x)) return x.map(bytes);
    if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, bytes(y)]));
    return x;
  };
  return JSON.stringify(bytes(v));
}

beforeAll(async () => { s = await startApiStack(['host-1']); }, 120_000);
afterAll(async () => {
  if (s) await forceDeleteDatabase(s.call, id);
  await s?.stop();
  await rm(basePath, { recursive: true, force: true });
});

it('create and update with canary secrets: the passwords work, a changed one takes effect, an omitted one is kept', async () => {
  await runTask(await call('POST', '/v1/databases', { id, spec }));
  const key = await getRepositoryCipherPass(s.db.store, id); // read with the control plane's key, as a worker would
  expect(key).toMatch(/^[\w-]{40,}$/);
  canary.key = key!;
  expect(await login('admin', canary.password)).toEqual([{ u: 'admin' }]);
  await runTask(await call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'full' })); // the cipher passphrase reaches pgBackRest

  // The update sends the spec as GET shows it (no passwords, no cipher passphrase) with admin's new password.
  const shown = (await call('GET', `/v1/databases/${id}`)).body.spec;
  expect(shown.backup_config.repositories[0]).toMatchObject({ type: 'posix', base_path: basePath });
  const next = { ...shown, database_users: shown.database_users.map((u: any) => (u.username === 'admin' ? { ...u, password: canary.changed } : u)) };
  await runTask(await call('POST', `/v1/databases/${id}`, { spec: next }));
  expect(await login('admin', canary.changed)).toEqual([{ u: 'admin' }]);
  await expect(login('admin', canary.password)).rejects.toThrow(/password authentication failed/);
  expect(await login('keeper', canary.kept)).toEqual([{ u: 'keeper' }]);
  await runTask(await call('POST', `/v1/databases/${id}/nodes/n1/backups`, { type: 'incr' })); // the database's passphrase still opens its repository after the update
  // the API renders task logs from histories it decodes with the codec: pgBackRest's output (an activity's result) shows
  expect(seen.at(-1)).toContain('backup command end: completed successfully');
}, 600_000);

it('no canary in any response or task log', () => {
  expect(found(seen.join('\n'))).toEqual([]);
});

it('no canary in the workflow histories read without the key; none in their payloads decoded with it either', async () => {
  const codec = new EncryptionCodec(testSecretKey());
  const handle = (t: string) => s.workers.client.workflow.getHandle(t);
  const ids: string[] = [];
  for await (const w of s.workers.client.workflow.list({ query: `DatabaseId = "${id}"` })) ids.push(w.workflowId);
  expect(ids).toEqual(expect.arrayContaining(taskIds));
  for (const t of ids) {
    const events = (await handle(t).fetchHistory()).events ?? [];
    const raw = rawJson(events);
    expect(found(raw), t).toEqual([]);
    expect(raw).toContain('binary/encrypted');
    expect(raw).not.toMatch(/"encoding":"json\/plain","data":"\{/); // no JSON object payload in clear (search attributes are strings)
    expect(found(rawJson(await decodeHistoryPayloads(codec, events))), t).toEqual([]);
  }
});

it('no canary in the container log, although log_statement=all logged the ALTER ROLE (with a SCRAM verifier)', async () => {
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
  expect(containers.length).toBeGreaterThan(0);
  for (const c of containers) {
    const log = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false })).toString('latin1');
    expect(found(log)).toEqual([]);
    if (c.Labels[labels.purpose] === 'instance') expect(log).toMatch(/ALTER ROLE "admin" WITH .*PASSWORD 'SCRAM-SHA-256\$4096:/);
  }
});

it('no canary in any column of the store', async () => {
  const c = new pg.Client({ connectionString: s.db.url });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>("SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'public'")).rows;
    for (const { t } of tables) {
      const rows = (await c.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM ${t} x`)).rows.map((r) => r.r).join('\n');
      expect(found(rows), t).toEqual([]);
    }
  } finally {
    await c.end();
  }
});

it('no canary in any file under the data directories (store, Temporal SQLite, etcd, logs, instance directories)', async () => {
  // The stack's data directory: where the Temporal dev server keeps its SQLite file (another checkout's, if reused).
  const temporal = execFileSync('ps', ['-eo', 'args']).toString().split('\n').find((l) => l.includes('start-dev') && l.includes('--db-filename'));
  const stackDir = path.dirname(path.dirname(/--db-filename (\S+)/.exec(temporal ?? '')?.[1] ?? path.join(projectRoot, '.data', 'test-stack', 'temporal', 'x')));
  const dirs = [...new Set([stackDir, path.join(projectRoot, '.data', 'test-stack')])];
  const hits = dirs.flatMap(filesWithCanaries);
  // Not closed yet (issue 15 item 6, see README): the node's pgBackRest configuration on its host holds the
  // repository's keys in clear, since pgBackRest in the container reads them there. Nothing else may.
  const pgbackrestConfs = hits.filter((f) => /\/instances\/[^/]+\/pgbackrest(-restore)?\.conf$/.test(f));
  expect(hits.filter((f) => !pgbackrestConfs.includes(f))).toEqual([]);
  for (const f of pgbackrestConfs) expect(found(readFileSync(f, 'latin1'))).toEqual([canary.key]);
});
