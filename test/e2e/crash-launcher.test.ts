// `npm start` keeps going when one of its processes dies: host-2's worker is SIGKILLed in the middle of a create;
// the launcher starts it again within seconds (the figure is printed), the create completes, and the API and
// host-1's worker were never restarted.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { ids } from '../../workflows/model/ids.js';
import { startLauncher, type Launcher } from '../support/launcher.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `sup-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(3);
let store: TestStore;
let launcher: Launcher;

/** Lines of a worker's pino log that say it is polling its queues. */
const readyLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"msg":"worker ready"')).length;

beforeAll(async () => {
  store = await createTestStore(inject('stack').storeUrl);
  launcher = await startLauncher({ storeUrl: store.url, hosts: 'host-1,host-2', apiPort: 3100 + Math.floor(Math.random() * 800), name: `launcher-${id}` });
  expect((await launcher.call('GET', '/v1/cluster/init')).status).toBe(200);
  await waitFor('both hosts healthy', async () => {
    const hosts = (await launcher.call('GET', '/v1/hosts')).body.hosts as { id: string; status?: { state: string } }[];
    return hosts.length === 2 && hosts.every((h) => h.status?.state === 'healthy');
  }, 60_000, 500);
});

afterAll(async () => {
  if (launcher) {
    const del = await launcher.call('DELETE', `/v1/databases/${id}?force=true`).catch(() => null);
    if (del?.status === 200) {
      await waitFor('deleted', async () => (await launcher.call('GET', `/v1/databases/${id}/tasks/${del.body.task.task_id}`)).body.status === 'completed', 120_000, 1000).catch(() => undefined);
    }
    await launcher.stop();
    console.log(launcher.lines.join('\n'));
  }
  await store?.drop();
});

it('a worker killed during a create is back within 5 s, the create completes, nothing else restarted', async () => {
  const spec = {
    database_name: 'app', database_users: [{ username: 'admin', password: 'password', attributes: ['SUPERUSER', 'LOGIN'] }],
    nodes: [{ name: 'n1', host_ids: ['host-1'], port }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }],
  };
  const created = await launcher.call('POST', '/v1/databases', { id, spec });
  expect(created.status).toBe(200);
  const taskId = created.body.task.task_id;
  const [apiPid, worker1Pid, worker2Pid] = ['api', 'worker-host-1', 'worker-host-2'].map((n) => launcher.pids(n)[0]!);
  const log2 = path.join(launcher.dataDir, 'logs', 'worker-host-2.log');

  // host-2's instance container exists: its worker is in the middle of the create's instance phase.
  await waitFor('n2 container', () => docker.getContainer(ids.instance(id, 'n2', 'host-2')).inspect().then(() => true, () => false), 120_000, 100);
  const readyBefore = readyLines(log2);
  const killedAt = performance.now();
  process.kill(worker2Pid!, 'SIGKILL');
  await waitFor('worker-host-2 ready again', async () => readyLines(log2) > readyBefore, 30_000, 50);
  const backMs = performance.now() - killedAt;
  console.log(`worker-host-2 back (polling its queues) ${(backMs / 1000).toFixed(2)} s after kill -9`);
  expect(launcher.pids('worker-host-2')).toHaveLength(2);
  expect(backMs).toBeLessThan(5000);

  await waitFor('create completed', async () => {
    const t = (await launcher.call('GET', `/v1/databases/${id}/tasks/${taskId}`)).body;
    if (['failed', 'canceled'].includes(t.status)) throw new Error(`create ${t.status}: ${t.error}`);
    return t.status === 'completed';
  }, 300_000, 1000);
  // n1 on host-1 (127.0.0.1), n2 on host-2 (127.0.0.2)
  const q = async (n: 1 | 2, text: string) => {
    const c = new pg.Client({ host: `127.0.0.${n}`, port: port + n - 1, user: 'admin', password: 'password', database: 'app' });
    await c.connect();
    try { return (await c.query(text)).rows; } finally { await c.end(); }
  };
  await q(1, 'CREATE TABLE t (id int primary key)');
  await waitFor('table t on n2', async () => (await q(2, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
  await q(2, 'INSERT INTO t VALUES (1)');
  await waitFor('row from n2 on n1', async () => (await q(1, 'SELECT id FROM t')).length === 1, 30_000);

  // The API and host-1's worker ran throughout: started once, never exited.
  expect(launcher.pids('api')).toEqual([apiPid]);
  expect(launcher.pids('worker-host-1')).toEqual([worker1Pid]);
  expect(launcher.lines.filter((l) => / exited \(/.test(l)).map((l) => l.split(' ')[1])).toEqual(['worker-host-2']);
});
