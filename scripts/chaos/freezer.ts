// Ending a `docker pause` when the engine cannot. On this machine (cgroup v1, cgroupfs driver) `docker unpause` of a
// paused instance container once hung for good: the container's freezer cgroup stayed FROZEN, and every later
// `docker unpause`, `kill` and `inspect` of that container hung behind it while `docker ps` still answered. Writing
// THAWED to the freezer released it, and the pending calls then went through. The chaos run's pause fault is about
// the control plane, not the engine: so the run thaws through the cgroup after a bounded wait, and says it did.
import { writeFile } from 'node:fs/promises';
import type Docker from 'dockerode';

/** Pure: the files that thaw a container's cgroup, for cgroup v1 (freezer) and v2 (cgroupfs or systemd driver). */
export function thawFiles(containerId: string): { path: string; value: string }[] {
  return [
    { path: `/sys/fs/cgroup/freezer/docker/${containerId}/freezer.state`, value: 'THAWED' },
    { path: `/sys/fs/cgroup/docker/${containerId}/cgroup.freeze`, value: '0' },
    { path: `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cgroup.freeze`, value: '0' },
  ];
}

const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());

/**
 * Unpauses `name`; if Docker has not answered within `waitMs`, thaws its cgroup directly and waits for Docker's
 * answer again. Returns what happened, for the run's log.
 */
export async function unpauseOrThaw(docker: Docker, name: string, waitMs = 20_000): Promise<'unpaused' | 'thawed' | 'stuck'> {
  const unpaused = docker.getContainer(name).unpause().then(() => 'unpaused' as const, () => 'unpaused' as const);
  if ((await Promise.race([unpaused, timeout(waitMs)])) !== 'timeout') return 'unpaused';
  // `docker ps` still answers while the container's own calls hang: it gives the full id
  const [c] = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  if (!c) return 'stuck';
  let wrote = false;
  for (const f of thawFiles(c.Id)) {
    try { await writeFile(f.path, f.value); wrote = true; } catch { /* not this cgroup layout */ }
  }
  if (!wrote) return 'stuck';
  return (await Promise.race([unpaused, timeout(waitMs)])) === 'timeout' ? 'stuck' : 'thawed';
}
