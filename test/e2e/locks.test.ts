// The database's lock and delete, on real Docker, Patroni, Temporal and the store:
// - a switchover fired beside an update, and a forced restore beside an update: one accepted, the other 409, every
//   round (each pair decided by one compare-and-set in the store, not by read-check-write);
// - a forced delete at a random moment of a create cancels the create, waits for it, and leaves nothing of the
//   database behind — no container, volume or network;
// - an update removing n2 that fails before it removes it, then a delete: nothing is left (delete works from the
//   instance records and Docker's labels, not from the spec).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker, labels } from '../../activities/docker/client.js';
import { defaultRepositoryRoot } from '../../platform/config.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

let s: ApiStack;
const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const basePort = await freePorts(5);
const created: string[] = [];

beforeAll(async () => { s = await startApiStack(); });
afterAll(async () => {
  for (const id of created) await forceDeleteDatabase(s.call, id).catch(() => undefined);
  await s?.stop();
});

const call = (method: string, p: string, body?: unknown) => s.call(method, p, body);
const ended = (id: string, taskId: string) => waitForTask(call, id, taskId, { intervalMs: 250 });
const user = { username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };

/** Every Docker object labelled with the database's id: what a delete must leave none of. */
async function leftovers(id: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${labels.databaseId}=${id}`] });
  const containers = (await docker.listContainers({ all: true, filters })).map((c) => `container ${c.Names[0]}`);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => `volume ${v.Name}`);
  const networks = (await docker.listNetworks({ filters })).map((n) => `network ${n.Name}`);
  return [...containers, ...volumes, ...networks];
}

async function create(id: string, spec: object): Promise<string> {
  created.push(id);
  const r = await call('POST', '/v1/databases', { id, spec });
  expect(r.status, r.text).toBe(200);
  return r.body.task.task_id as string;
}

type Answer = { status: number; body: any; text: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Fires both requests together, one of them (either, at random) up to `maxOffsetMs` after the other: each side does
 * its own admission work first (an update hashes passwords), so with no offset the same one may always reach the
 * store first. The offset must stay below the accepted task's run time (a 1-node switchover fails within ~200 ms:
 * two requests that far apart are not concurrent). Returns their answers in order.
 */
function race(a: () => Promise<Answer>, b: () => Promise<Answer>, maxOffsetMs: number): Promise<Answer[]> {
  const offset = Math.floor(Math.random() * maxOffsetMs);
  const late = Math.random() < 0.5 ? 0 : 1;
  return Promise.all([a, b].map(async (f, i) => { if (i === late) await sleep(offset); return f(); }));
}

describe('one mutating task per database at a time', () => {
  const id = `lock-${suffix}`;
  const basePath = path.join(defaultRepositoryRoot, 'test', id);
  const repository = { type: 'posix', base_path: basePath };
  const spec = { database_name: 'app', database_users: [user], nodes: [{ name: 'n1', host_ids: ['host-1'], port: basePort }], backup_config: { repositories: [repository] } };
  const update = () => call('POST', `/v1/databases/${id}`, { spec });

  beforeAll(async () => {
    const t = await ended(id, await create(id, spec));
    expect(t.status, t.error).toBe('completed');
  });
  afterAll(async () => { await rm(basePath, { recursive: true, force: true }); });

  /** The winner's task, after checking that exactly one of the two was accepted and the other refused with 409. */
  function oneWins(round: number, answers: Answer[]): string {
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, `round ${round}: ${answers.map((a) => a.text).join(' | ')}`).toEqual([200, 409]);
    return answers.find((a) => a.status === 200)!.body.task.task_id as string;
  }

  it('a switchover sent beside an update: one accepted and one 409, 20 of 20', async () => {
    const t0 = Date.now();
    const wins = { switchover: 0, update: 0 };
    for (let round = 1; round <= 20; round++) {
      // the switchover's own checks read the monitor's view: wait until it shows the primary again
      await waitFor('n1\'s primary available', async () => (await call('GET', `/v1/databases/${id}`)).body.instances?.some((i: any) => i.state === 'available' && i.postgres?.role === 'primary'), 60_000, 250);
      const answers = await race(() => call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {}), update, 0);
      const winner = oneWins(round, answers);
      wins[answers[0]!.status === 200 ? 'switchover' : 'update']++;
      await ended(id, winner);
    }
    console.log(`switchover beside update: 20 of 20 rounds one 200 and one 409 (switchover won ${wins.switchover}, update ${wins.update}) in ${Date.now() - t0} ms`);
  });

  it('a forced restore sent beside an update: one accepted and one 409, 20 of 20', async () => {
    const t0 = Date.now();
    const restore = () => call('POST', `/v1/databases/${id}/restore?force=true`, {
      restore_config: { source_database_id: id, source_node_name: 'n1', source_database_name: 'app', repository },
    });
    for (let round = 1; round <= 20; round++) {
      const winner = oneWins(round, await race(restore, update, 300));
      // the winner is not what this test is about: cancelled at once, so the next round starts soon
      await call('GET', `/v1/databases/${id}/tasks/${winner}/cancel`);
      await ended(id, winner);
    }
    console.log(`forced restore beside update: 20 of 20 rounds one 200 and one 409 in ${Date.now() - t0} ms`);
  });
});

describe('delete removes what runs', () => {
  it('a forced delete at a random moment of a create leaves nothing of the database, 10 of 10', async () => {
    const t0 = Date.now();
    // Moments inside the create's steps (the delete sent while that step is in flight, plus up to 1 s), or any
    // moment of its first 8 s.
    const steps = [/^creating the database network/, /^creating instance/, /^waiting for instance/, /^creating database, users/, null];
    for (let round = 1; round <= 10; round++) {
      const id = `fdel-${suffix}-${round}`;
      const createTask = await create(id, { database_name: 'app', database_users: [user], nodes: [{ name: 'n1', host_ids: ['host-1'], port: basePort + 1 }] });
      const step = steps[Math.floor(Math.random() * steps.length)]!;
      const delayMs = Math.floor(Math.random() * (step ? 1000 : 8000));
      if (step) {
        await waitFor(`create step ${step.source}`, async () => {
          const log = await call('GET', `/v1/databases/${id}/tasks/${createTask}/log`);
          // a step's own entry (it names its host), not the plan's line announcing it
          const entries = (log.body.entries ?? []) as { message: string; fields?: { host_id?: string } }[];
          return entries.some((e) => e.fields?.host_id && step.test(e.message)) || !['running', 'pending'].includes(log.body.task_status);
        }, 60_000, 100);
      }
      await sleep(delayMs);
      const moment = `${step ? `${delayMs} ms after "${step.source}" started` : `${delayMs} ms after the create`}`;
      const del = await call('DELETE', `/v1/databases/${id}?force=true`);
      expect(del.status, del.text).toBe(200);
      const t = await ended(id, del.body.task.task_id);
      expect(t.status, `round ${round} (${moment}): ${t.error}`).toBe('completed');
      expect((await call('GET', `/v1/databases/${id}`)).status).toBe(404);
      // the create ended before anything was removed; a step of it still in flight would show up now
      await sleep(1000);
      expect(await leftovers(id), `round ${round}: forced delete ${moment} (create task ${createTask})`).toEqual([]);
      console.log(`round ${round}: forced delete ${moment}: nothing left`);
    }
    console.log(`forced delete during create: 10 of 10 rounds left nothing, in ${Date.now() - t0} ms`);
  });

  it('an update removing n2 that fails before removing it, then a delete: nothing is left', async () => {
    const id = `upd-del-${suffix}`;
    const nodes = ['n1', 'n2'].map((n, i) => ({ name: n, host_ids: ['host-1'], port: basePort + 2 + i }));
    const t = await ended(id, await create(id, { database_name: 'app', database_users: [user], nodes }));
    expect(t.status, t.error).toBe('completed');
    const upd = await call('POST', `/v1/databases/${id}`, { spec: { database_name: 'app', database_users: [user], nodes: [nodes[0]] } });
    expect(upd.status, upd.text).toBe(200);
    await call('GET', `/v1/databases/${id}/tasks/${upd.body.task.task_id}/cancel`); // fails early: n2 is not removed yet
    expect((await ended(id, upd.body.task.task_id)).status).toBe('canceled');
    expect((await call('GET', `/v1/databases/${id}`)).body.state).toBe('failed');
    expect((await leftovers(id)).filter((x) => x.includes('-n2-'))).not.toEqual([]); // n2 still runs, under a spec without it
    const del = await call('DELETE', `/v1/databases/${id}`);
    expect(del.status, del.text).toBe(200);
    const d = await ended(id, del.body.task.task_id);
    expect(d.status, d.error).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
  });
});
