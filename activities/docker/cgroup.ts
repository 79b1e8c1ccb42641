// A container's cgroup, read and written without Docker. On Debian's docker.io 20.10 (cgroup v1, cgroupfs driver),
// an exec that starts as its container is paused never starts: its `runc init` is frozen with the rest, and the
// engine waits for it while holding the container, so every later `inspect`, `top`, `kill` and `unpause` of that
// container hangs (`docker ps` still answers). Fencing a frozen primary and ending a test's pause then go through the
// cgroup itself: its process list, and its freezer.
import { readFile, writeFile } from 'node:fs/promises';
import type Docker from 'dockerode';

/** Pure: the cgroup directories a container can have: v1 freezer or v2 unified, cgroupfs or systemd driver. */
export function cgroupDirs(containerId: string): { dir: string; freezeFile: string; thawed: string }[] {
  return [
    { dir: `/sys/fs/cgroup/freezer/docker/${containerId}`, freezeFile: 'freezer.state', thawed: 'THAWED' },
    { dir: `/sys/fs/cgroup/freezer/system.slice/docker-${containerId}.scope`, freezeFile: 'freezer.state', thawed: 'THAWED' },
    { dir: `/sys/fs/cgroup/docker/${containerId}`, freezeFile: 'cgroup.freeze', thawed: '0' },
    { dir: `/sys/fs/cgroup/system.slice/docker-${containerId}.scope`, freezeFile: 'cgroup.freeze', thawed: '0' },
  ];
}

/** Pure: the PIDs of a `cgroup.procs` file; 0 for a process outside the reader's PID namespace. */
export function parseProcs(text: string): number[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n >= 0);
}

/** The host PIDs in the container's cgroup (full container id), or null where no cgroup of it can be read. */
export async function cgroupPids(containerId: string): Promise<number[] | null> {
  for (const c of cgroupDirs(containerId)) {
    const text = await readFile(`${c.dir}/cgroup.procs`, 'utf8').catch(() => null);
    if (text !== null) return parseProcs(text);
  }
  return null;
}

/** Thaws the container's cgroup (full container id); false where no freezer of it can be written. */
export async function thawCgroup(containerId: string): Promise<boolean> {
  let wrote = false;
  for (const c of cgroupDirs(containerId)) {
    try { await writeFile(`${c.dir}/${c.freezeFile}`, c.thawed); wrote = true; } catch { /* not this cgroup layout */ }
  }
  return wrote;
}

/** The full id and state of a container by name, from the container list: it answers while the container's own calls hang. */
export async function listedContainer(docker: Docker, name: string): Promise<{ id: string; state: string } | null> {
  const [c] = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
  return c ? { id: c.Id, state: c.State } : null;
}
