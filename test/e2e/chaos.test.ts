// `npm run chaos`'s core on the test stack: the launcher (npm start, over the test stack) with host-1 and host-2, a
// 2-node database whose node n1 has a replica, a writer, and a few fixed-seed rounds of different faults at seeded
// points of an add-node update (n3, removed again and checked), a switchover and backups. Each round must recover on
// its own: the task completes (a request the API's death left unanswered is sent once more), the database and its
// instances are available, no container, slot or subscription twice, no acknowledged row lost and every node holds
// the same rows.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { defaultRepositoryRoot, stackPorts } from '../../platform/config.js';
import { planRounds, renderTable, type FaultKind } from '../../scripts/chaos/plan.js';
import { pidListeningOn, runChaos } from '../../scripts/chaos/run.js';
import { startLauncher, type Launcher } from '../support/launcher.js';
import { createTestStore, type TestStore } from '../support/store.js';

const id = `chaos-${Math.random().toString(36).slice(2, 7)}`;
const repositoryPath = path.join(defaultRepositoryRoot, 'test', id);
const seed = 2026;
let store: TestStore;
let launcher: Launcher;

beforeAll(async () => {
  store = await createTestStore(inject('stack').storeUrl);
  launcher = await startLauncher({ storeUrl: store.url, hosts: 'host-1,host-2', apiPort: 3100 + Math.floor(Math.random() * 800), name: `launcher-${id}` });
});

afterAll(async () => {
  await launcher?.stop();
  await store?.drop();
  await rm(repositoryPath, { recursive: true, force: true });
});

it('fixed-seed chaos rounds: a killed API, Temporal server, control-plane worker and primary during an add-node, a switchover and backups; each recovers', async () => {
  // The Temporal server is SIGKILLed only when this run started it (supervised, it comes back); a reused one is not ours.
  const faults: FaultKind[] = ['kill-api', 'kill-control-plane-worker', 'kill-primary', ...(inject('stack').ownsTemporal ? ['kill-temporal' as const] : [])];
  const rounds = planRounds(seed, faults.length, { faults, operations: ['switchover', 'backup', 'add-node'] });
  const results = await runChaos({
    apiUrl: launcher.apiUrl,
    pid: (name) => (name === 'temporal' ? pidListeningOn(stackPorts.temporal) : launcher.pids(name).at(-1)),
    repositoryPath, databaseId: id, basePort: 27000 + Math.floor(Math.random() * 600) * 5,
    log: (line) => console.log(line),
  }, rounds);
  console.log(renderTable(seed, results));
  expect(results.filter((r) => !r.ok).map((r) => `round ${r.index} (${r.fault} at ${r.at} of ${r.operation}): ${r.outcome}`)).toEqual([]);
  expect(results).toHaveLength(faults.length);
});
