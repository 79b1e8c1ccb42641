// Ending a `docker pause` when the engine cannot. On this machine (Debian's docker.io 20.10.24, cgroup v1, cgroupfs
// driver), a `docker exec` that starts as the container is paused never starts: its process is frozen with the
// rest, and the engine waits for it while holding the container's exec list, so every later `docker inspect`,
// `unpause` and `kill` of that container hangs while `docker ps` still answers (seen with a task's pgBackRest exec;
// dockerd's goroutine dump showed the exec waiting in libcontainerd). Writing THAWED to the freezer lets the exec
// start, and the pending calls then go through. The chaos run's pause fault is about
// the control plane, not the engine: so the run thaws through the cgroup after a bounded wait, and says it did.
import { writeFile } from 'node:fs/promises';
import type Docker from 'dockerode';

/** Pure: the files that thaw a container's cgroup, for cgroup v1 (freezer) and v2, cgroupfs or systemd driver. */
export function thawFiles(containerId: string): { path: string; value: string }[] {
  return [
    { path: `/sys/fs/cgroup/freezer/docker/${containerId}/freezer.state`, value: 'THAWED' },
    { path: `/sys/fs/cgroup/freezer/system.slice/docker-${containerId}.scope/freezer.state`, value: 'THAWED' },
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
