// Fencing of a frozen primary. A `docker pause` (or any freeze of the process: a stopped VM, SIGSTOP) keeps the
// container and Postgres alive but silent; after Patroni's leader ttl a replica takes the node's leader key and is
// promoted. Patroni has no watchdog here, so on `unpause` the old primary would serve writes as a primary until its
// own loop sees the key lost and demotes it: two primaries. The host's agent follows the `pause` events of its
// instance containers; while one that led its node stays paused, it reads the node's leader key, and as soon as
// another member holds it, it kills the paused container (Docker kills a paused container at once: its processes
// never run again). The monitor then starts it again, and Patroni rejoins it as a replica (pg_rewind).
//
// Docker's kill of a paused container signals only its init process and then thaws the cgroup: until init's death
// takes down the PID namespace, every other process runs again for a moment. A backend frozen between its commit and
// its answer then sends the answer, and the client holds an acknowledgement of a row the promoted member never got
// (measured: one row, acknowledged 21.9 s after the freeze). So each process of the container is sent SIGKILL first,
// while frozen: on thaw it dies before it runs another instruction in user space.
//
// Docker 20.10 (cgroup v1) hangs every call about a container when an exec met its pause (activities/docker/cgroup.ts).
// So the watch reads the container's state from the container list, which still answers, and its processes from its
// cgroup; when Docker does not answer the kill, the agent thaws the cgroup itself (its processes, already sent
// SIGKILL, die at once), and the pending calls about the container then go through.
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { cgroupPids, listedContainer, thawCgroup } from '../activities/docker/cgroup.js';
import { labels } from '../activities/docker/client.js';
import { getValue, type Etcd } from '../activities/etcd.js';
import { listInstancesOnHost } from '../store/instances.js';
import type { Store } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { ids } from '../workflows/model/ids.js';
import { followInstanceEvents } from './fast-failover.js';

export interface FencingDeps { store: Store; docker: Docker; hostId: string; etcd: Etcd; log: Logger; pollMs?: number }

/** Pure: the instance a Docker event is about, when it is a `pause` of an instance container of this host. */
export function pausedInstance(event: unknown, hostId: string): string | null {
  const e = event as { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
  const attrs = e.Actor?.Attributes ?? {};
  if (e.Type !== 'container' || e.Action !== 'pause') return null;
  if (attrs[labels.purpose] !== 'instance' || attrs[labels.hostId] !== hostId) return null;
  return attrs[labels.instanceId] ?? null;
}

/** Pure: what to do with a paused member, given its node's leader key now. */
export function fenceDecision(instanceId: string, ledAtPause: boolean, leader: string | null): 'kill' | 'wait' | 'leave' {
  if (!ledAtPause) return 'leave';
  return leader !== null && leader !== instanceId ? 'kill' : 'wait';
}

/** Pure: the host PIDs in a `docker top` answer. */
export function topPids(top: { Titles?: string[]; Processes?: string[][] }): number[] {
  const col = (top.Titles ?? []).findIndex((t) => t.toUpperCase() === 'PID');
  if (col < 0) return [];
  return (top.Processes ?? []).map((p) => Number(p[col])).filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * SIGKILL to every process of a frozen container (full id), each checked first to be in that container's cgroup (so a
 * PID read from another PID namespace, as when the agent itself runs in a container, is never signalled). The PIDs
 * come from its cgroup, else from `docker top`. `complete` when its cgroup was read and every process in it was seen
 * and signalled: only then may the agent thaw it itself, for nothing in it can run again. Where they cannot be seen,
 * Docker's kill alone fences.
 */
async function killFrozenProcesses(docker: Docker, containerId: string): Promise<{ signalled: number; complete: boolean }> {
  const fromCgroup = await cgroupPids(containerId);
  const pids = fromCgroup
    ?? topPids(await within(docker.getContainer(containerId).top(), dockerAnswerMs).then((t) => (t === 'timeout' ? {} : t), () => ({})));
  let signalled = 0;
  let missed = 0;
  for (const pid of pids) {
    const cgroup = pid > 0 ? await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '') : '';
    if (!cgroup.includes(containerId)) { missed += 1; continue; } // another PID namespace's (0), or gone
    try {
      process.kill(pid, 'SIGKILL');
      signalled += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') missed += 1; // not ours to signal
    }
  }
  return { signalled, complete: fromCgroup !== null && missed === 0 };
}

/** How long a Docker call about the paused container may take before the engine is taken to be stuck on it. */
const dockerAnswerMs = 10_000;

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const ignorable = (err: unknown) => /is not running|No such container|404|409/.test(errorText(err));

export function createFencing(deps: FencingDeps) {
  const pollMs = deps.pollMs ?? 250;
  const watching = new Set<string>();
  let stopped = false;

  /** Follows one paused instance until it is unpaused, gone or killed. */
  async function watch(instanceId: string): Promise<void> {
    if (watching.has(instanceId)) return;
    watching.add(instanceId);
    try {
      const rec = (await listInstancesOnHost(deps.store, deps.hostId)).find((i) => i.id === instanceId);
      if (!rec) return;
      const key = `${ids.patroniKeys(rec.databaseId, rec.nodeName)}leader`;
      // The key of a frozen leader stays for its ttl (10 s): read at once, it still names the paused member.
      const ledAtPause = (await getValue(deps.etcd, key)) === instanceId;
      if (!ledAtPause) { deps.log.debug({ instanceId }, 'paused instance container does not lead its node: no fencing'); return; }
      deps.log.warn({ instanceId, databaseId: rec.databaseId, nodeName: rec.nodeName }, 'primary container paused: fencing it if another member takes the leader key');
      const fenced = (leader: string | null) => deps.log.warn({ instanceId, databaseId: rec.databaseId, nodeName: rec.nodeName, newLeader: leader },
        `fenced: paused primary ${instanceId} killed because ${leader} took node ${rec.nodeName}'s leader key; it comes back as a replica`);
      /** Docker's kill, asked once and awaited across polls: its answer, or why it failed. */
      let kill: Promise<{ failed?: string }> | null = null;
      let newLeader: string | null = null;
      let toldStuck = false;
      while (!stopped) {
        const listed = await listedContainer(deps.docker, instanceId);
        if (listed?.state !== 'paused') {
          if (kill) fenced(newLeader);
          else deps.log.info({ instanceId }, 'paused primary container is no longer paused: fencing ends');
          return;
        }
        const leader = await getValue(deps.etcd, key).catch(() => null);
        if (kill || fenceDecision(instanceId, true, leader) === 'kill') {
          if (!kill) {
            newLeader = leader;
            const k = await killFrozenProcesses(deps.docker, listed.id).catch(() => ({ signalled: 0, complete: false }));
            deps.log.debug({ instanceId, ...k }, 'frozen processes of the paused primary sent SIGKILL');
            kill = deps.docker.getContainer(instanceId).kill().then(() => ({}), (err: unknown) => (ignorable(err) ? {} : { failed: errorText(err) }));
          }
          const answer = await within(kill, dockerAnswerMs);
          if (answer !== 'timeout') {
            if (!answer.failed) { fenced(newLeader); return; }
            deps.log.warn({ instanceId, err: answer.failed }, 'Docker refused the kill of the paused primary: asked again');
            kill = null;
          } else {
            // Docker hangs on the container (an exec met its pause). Its processes, seen again now (another exec's may
            // have joined), are sent SIGKILL while frozen; the agent thaws it only when it saw and signalled every one.
            const k = await killFrozenProcesses(deps.docker, listed.id).catch(() => ({ signalled: 0, complete: false }));
            const thawed = k.complete && await thawCgroup(listed.id);
            if (thawed || !toldStuck) {
              deps.log.warn({ instanceId, ...k, thawed }, `Docker has not answered the kill of paused primary ${instanceId} for ${dockerAnswerMs / 1000} s (an exec that met the pause holds it): ${thawed ? 'its cgroup was thawed, and its processes, sent SIGKILL while frozen, end' : 'its processes could not all be seen and signalled, so it stays frozen; fencing tries again'}`);
              toldStuck = true;
            }
          }
          continue;
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    } catch (err) {
      deps.log.warn({ instanceId, err: errorText(err) }, 'fencing of a paused container failed');
    } finally {
      watching.delete(instanceId);
    }
  }

  /** Instance containers of this host that are paused now (an agent that starts after a pause still fences). */
  async function watchPausedNow(): Promise<void> {
    const paused = await deps.docker.listContainers({ filters: { status: ['paused'], label: [`${labels.purpose}=instance`, `${labels.hostId}=${deps.hostId}`] } });
    for (const c of paused) { const id = c.Labels[labels.instanceId]; if (id) void watch(id); }
  }

  return { watch, watchPausedNow, stop: () => { stopped = true; } };
}

/** Fences this host's paused primaries until stopped. */
export function startFencing(deps: FencingDeps): { stop: () => void } {
  const fencing = createFencing(deps);
  const events = followInstanceEvents(deps, ['pause'], (event) => {
    const id = pausedInstance(event, deps.hostId);
    if (id) void fencing.watch(id);
  });
  fencing.watchPausedNow().catch((err: unknown) => deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'listing paused containers failed'));
  return { stop: () => { events.stop(); fencing.stop(); } };
}
