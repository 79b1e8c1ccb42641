// `npm run chaos [-- --rounds N] [--seed S]`: a bounded fault run on this machine. Starts the control plane as
// `npm start -- --hosts host-1,host-2` does (its own data directory, .data/chaos), builds a 2-node database whose
// node n1 has a replica, and runs N rounds (default 10): each one operation (create, add-node update, switchover,
// backup, in-place restore) under a writer, with one fault (SIGKILL of a host worker, the control-plane worker, the
// API or Temporal; docker kill of n1's primary or replica; docker pause of n1's primary for 30 s) at a seeded point
// of it, then checks that the system recovered (scripts/chaos/run.ts). Prints a table of rounds; exits 1 if any failed.
// Needs what npm start needs, with its ports free (stop a running npm start and test runs first).
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createDocker } from '../activities/docker/client.js';
import { defaultRepositoryRoot, projectRoot } from '../platform/config.js';
import { labels } from '../workflows/model/ids.js';
import { parseChaosArgs, planRounds, renderTable, type RoundResult } from './chaos/plan.js';
import { runChaos } from './chaos/run.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, seed: { type: 'string' } }, allowPositionals: false });
const { rounds, seed } = parseChaosArgs(values, () => randomInt(0, 2 ** 32));
const plan = planRounds(seed, rounds);
const stamp = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => console.log(`${stamp()} ${line}`);
log(`chaos: seed ${seed} (replay with --seed ${seed}), ${rounds} rounds`);

// The control plane, as npm start runs it, in its own data directory; its stdout names every process it (re)starts.
const dataDir = path.join(projectRoot, '.data', 'chaos');
// a fresh stack each run: nothing of an earlier (interrupted) run — its databases, its tasks — is picked up again
const repositoryPath = path.join(defaultRepositoryRoot, 'chaos', `chaos-${seed.toString(36)}`);
rmSync(dataDir, { recursive: true, force: true });
rmSync(repositoryPath, { recursive: true, force: true });
const apiPort = 3000;
const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'start.ts'), '--hosts', 'host-1,host-2'], {
  cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, PGCP_DATA_DIR: dataDir, PGCP_API_PORT: String(apiPort) },
});
const pids = new Map<string, number>();
let ready = false;
const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
createInterface({ input: launcher.stdout }).on('line', (l) => {
  const m = / (\S+) started \(pid (\d+)\)$/.exec(l);
  if (m) pids.set(m[1]!, Number(m[2]));
  if (l.startsWith('control plane ready')) ready = true;
  if (m || / exited \(/.test(l)) log(`launcher: ${l.replace(/^\S+ /, '')}`);
  else if (!ready) console.log(l);
});
createInterface({ input: launcher.stderr }).on('line', (l) => console.error(`launcher: ${l}`));
const stopLauncher = async () => {
  if (launcher.exitCode === null) launcher.kill('SIGTERM');
  await exited;
};
const results: RoundResult[] = [];
const databaseId = `chaos-${seed.toString(36).slice(0, 6)}`;
/** Interrupted: what the run's databases left in Docker goes (a finished run deletes them through the API). */
async function sweep() {
  const docker = createDocker();
  for (const db of [databaseId, `${databaseId}-c`]) {
    const filters = JSON.stringify({ label: [`${labels.databaseId}=${db}`] });
    for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    if (results.length > 0) console.log(`\n${renderTable(seed, results)}\n(interrupted after ${results.length} of ${rounds} rounds)`);
    void stopLauncher().then(sweep).finally(() => {
      rmSync(repositoryPath, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

let code = 1;
try {
  const deadline = Date.now() + 600_000;
  while (!ready) {
    if (launcher.exitCode !== null) throw new Error('the launcher exited before the control plane was ready');
    if (Date.now() > deadline) throw new Error('the control plane was not ready within 10 minutes');
    await new Promise((r) => setTimeout(r, 250));
  }
  await runChaos({
    apiUrl: `http://127.0.0.1:${apiPort}`, pid: (name) => pids.get(name), repositoryPath,
    // below the ephemeral port range (32768-60999), where an outgoing connection can hold a port
    databaseId, basePort: 28800 + (seed % 200) * 5, log,
  }, plan, results);
  console.log(`\n${renderTable(seed, results)}`);
  code = results.every((r) => r.ok) ? 0 : 1;
} catch (err) {
  console.error(`chaos: ${(err as Error).message}`);
} finally {
  await stopLauncher();
  await sweep(); // a run that failed before it could delete its databases through the API
  rmSync(repositoryPath, { recursive: true, force: true });
}
process.exit(code);
