// Ending a `docker pause` when the engine cannot. On this machine (Debian's docker.io 20.10.24, cgroup v1, cgroupfs
// driver), a `docker exec` that starts as the container is paused never starts: its process is frozen with the
// rest, and the engine waits for it while holding the container's exec list, so every later `docker inspect`,
// `unpause` and `kill` of that container hangs while `docker ps` still answers (seen with a task's pgBackRest exec;
// dockerd's goroutine dump showed the exec waiting in libcontainerd). Writing THAWED to the freezer lets the exec
// start, and the pending calls then go through. The chaos run's pause fault is about
// the control plane, not the engine: so the run thaws through the cgroup after a bounded wait, and says it did.
import type Docker from 'dockerode';
import { listedContainer, thawCgroup } from '../../activities/docker/cgroup.js';

const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());

/**
 * Unpauses `name`; if Docker has not answered within `waitMs`, thaws its cgroup directly and waits for Docker's
 * answer again. Returns what happened, for the run's log.
 */
export async function unpauseOrThaw(docker: Docker, name: string, waitMs = 20_000): Promise<'unpaused' | 'thawed' | 'stuck'> {
  const unpaused = docker.getContainer(name).unpause().then(() => 'unpaused' as const, () => 'unpaused' as const);
  if ((await Promise.race([unpaused, timeout(waitMs)])) !== 'timeout') return 'unpaused';
  const c = await listedContainer(docker, name);
  if (!c || !(await thawCgroup(c.id))) return 'stuck';
  return (await Promise.race([unpaused, timeout(waitMs)])) === 'timeout' ? 'stuck' : 'thawed';
}
