// Crash safety: the worker process is SIGKILLed in the middle of a create; a new one picks the same task up and
// finishes it, with no duplicate container or subscription, because every step checks before it acts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { crashHarness } from '../support/crash-harness.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `crash-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(3);
const h = crashHarness(id, (n) => port + Number(n.slice(1)) - 1);
const { call, sql, completed } = h;

beforeAll(() => h.start());
afterAll(() => h.stop());

it('a create whose worker is killed mid-way finishes with the next worker, without duplicates', async () => {
  const spec = {
    database_name: 'app', database_users: [{ username: 'admin', password: 'password', attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: ['n1', 'n2', 'n3'].map((name, i) => ({ name, host_ids: ['host-1'], port: port + i })),
  };
  const created = await call('POST', '/v1/databases', { id, spec });
  const taskId = created.body.task.task_id;
  // Kill as soon as the first instance container exists: the create is mid-way through its instance phase.
  await waitFor('a first container', async () => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) })).length > 0, 60_000, 50);
  await h.restartWorker();

  await completed(taskId);
  expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('available');
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
  expect(containers.map((c) => c.Names[0]).sort()).toEqual(['n1', 'n2', 'n3'].map((n) => `/${id}-${n}-689qacsi`));
  for (const n of ['n1', 'n2', 'n3']) {
    const rows = await sql(n, 'SELECT count(*)::int AS subs, count(DISTINCT sub_name)::int AS names FROM pglogical.subscription');
    const nodes = await sql(n, 'SELECT count(*)::int AS n FROM pglogical.local_node');
    expect(rows[0]).toEqual({ subs: 2, names: 2 });
    expect(nodes[0].n).toBe(1);
  }

  const del = await call('DELETE', `/v1/databases/${id}`);
  await completed(del.body.task.task_id);
});
