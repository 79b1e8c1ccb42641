// Crash safety of add-node: five times, n3 is added to a 2-node database under writes and the worker process is
// SIGKILLed at a random moment of that task; a new worker finishes the same task. Each time the database converges
// with no duplicate container, slot or subscription, and no write is refused. n3 is removed between rounds.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { crashHarness } from '../support/crash-harness.js';
import { waitFor } from '../support/wait.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `crashjoin-${Math.random().toString(36).slice(2, 7)}`;
const basePort = await freePorts(4);
const port = (n: string) => basePort + Number(n.slice(1));
const nodeSpec = (n: string) => ({ name: n, host_ids: ['host-1'], port: port(n) });
const spec = (nodes: string[]) => ({ database_name: 'app', database_users: [{ username: 'admin', password: 'password', attributes: ['SUPERUSER', 'LOGIN'] }], nodes: nodes.map(nodeSpec) });
const ROUNDS = 5;
const h = crashHarness(id, port);
const { call, sql, completed } = h;

async function update(nodes: string[]) {
  const r = await call('POST', `/v1/databases/${id}`, { spec: spec(nodes) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.task.task_id as string;
}

beforeAll(() => h.start());
afterAll(() => h.stop());

it(`an add-node whose worker is SIGKILLed at a random moment finishes after a restart, ${ROUNDS} times`, async () => {
  const created = await call('POST', '/v1/databases', { id, spec: spec(['n1', 'n2']) });
  await completed(created.body.task.task_id);
  await sql('n1', 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  // the writer writes on n2 too: the table must have reached it first
  await waitFor('table t on n2', async () => (await sql('n2', "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
  const writer = await startWriter([{ node: 'n1', port: port('n1') }, { node: 'n2', port: port('n2') }], {
    user: 'admin', password: 'password', database: 'app', table: 't', ratePerSecond: 20,
  });

  for (let round = 1; round <= ROUNDS; round++) {
    const taskId = await update(['n1', 'n2', 'n3']);
    const delay = Math.floor(Math.random() * 9000);
    await new Promise((r) => setTimeout(r, delay));
    const log = await call('GET', `/v1/databases/${id}/tasks/${taskId}/log`);
    console.log(`round ${round}: SIGKILL after ${delay} ms, at "${log.body.entries.at(-1)?.message}"`);
    await h.restartWorker();
    await completed(taskId);
    expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');

    // converged: every node holds every row, and nothing is duplicated
    await sql('n3', `INSERT INTO t VALUES ('round-${round}', 'n3', 'x')`);
    await waitFor(`round ${round} converged`, async () => {
      const counts = await Promise.all(['n1', 'n2', 'n3'].map(async (n) => (await sql(n, 'SELECT count(*)::int AS c FROM t'))[0].c));
      return counts.every((c) => c === counts[0]) && (await sql('n1', `SELECT 1 FROM t WHERE id = 'round-${round}'`)).length === 1;
    }, 60_000, 1000);
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
    expect(containers.map((c) => c.Names[0]).sort()).toEqual(['n1', 'n2', 'n3'].map((n) => `/${id}-${n}-689qacsi`));
    for (const n of ['n1', 'n2', 'n3']) {
      const subs = await sql(n, 'SELECT count(*)::int AS n, count(*) FILTER (WHERE sub_enabled)::int AS enabled FROM pglogical.subscription');
      const slots = await sql(n, 'SELECT count(*)::int AS n FROM pg_replication_slots');
      expect(subs[0], `subscriptions on ${n}`).toEqual({ n: 2, enabled: 2 });
      expect(slots[0].n, `slots on ${n}`).toBe(2);
    }

    if (round < ROUNDS) await completed(await update(['n1', 'n2']));
  }
  await new Promise((r) => setTimeout(r, 2000));
  await writer.stop();
  expect(writer.errors).toEqual([]);
  const held = new Set((await sql('n3', 'SELECT id FROM t')).map((r) => r.id));
  expect(writer.acknowledged.filter((a) => !held.has(a.id))).toEqual([]);
});
