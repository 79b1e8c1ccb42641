// Simulated machines for the e2e tests: each host gets a network namespace with its own address on a veth pair to a
// bridge in the root namespace, and its own dockerd started inside that namespace (own data root, exec root,
// socket), loaded with the Postgres images by `docker save | docker load`. Instances of different machines share
// no Docker network: they reach each other only by host address and published port, as on separate machines.
//
// Addresses (only on interfaces made here): bridge 10.231.0.1/24, machine i at 10.231.0.(10+i); its engine's
// default bridge 10.232.i.0/24 and its networks from 10.233.i.0/24, routed from the root namespace through the
// machine's address so that its agent (which runs in the root namespace, as on its own machine) reaches its
// containers by their addresses. `ip netns exec` cannot be used for dockerd (it remounts /sys: "Devices cgroup isn't
// mounted"); `nsenter --net=` can. Everything is removed by teardown(), also after a failed start.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { createDocker } from '../../activities/docker/client.js';

const prefix = 'pgcpm';
const bridge = `${prefix}0`;
export const bridgeAddress = '10.231.0.1';
const runRoot = `/run/${prefix}`;
const dataRoot = `/var/lib/${prefix}`;

export interface Machine {
  hostId: string;
  /** The machine's address: instances publish their ports on it. */
  address: string;
  /** PGCP_DOCKER_HOST of its agent. */
  dockerHost: string;
  docker: Docker;
  /** Stops its dockerd (its containers stop with it). */
  stopEngine: () => Promise<void>;
  /** Starts its dockerd again (containers with a restart policy come back). */
  startEngine: () => Promise<void>;
}

export interface Machines { machines: Machine[]; teardown: () => Promise<void> }

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const tryRun = (cmd: string, args: string[]) => { try { run(cmd, args); } catch { /* already gone */ } };
const inNs = (ns: string, cmd: string, args: string[]) => run('nsenter', [`--net=/var/run/netns/${ns}`, cmd, ...args]);

const names = (i: number) => ({
  ns: `${prefix}-${i}`, vethRoot: `${prefix}-${i}r`, vethNs: `${prefix}-${i}n`,
  address: `10.231.0.${10 + i}`, bip: `10.232.${i}.1/24`, pool: `10.233.${i}.0/24`,
  run: `${runRoot}/${i}`, data: `${dataRoot}/${i}`,
});

function pidOf(pidfile: string): number | null {
  try { return Number(readFileSync(pidfile, 'utf8').trim()) || null; } catch { return null; }
}

async function stopDockerd(pidfile: string): Promise<void> {
  const pid = pidOf(pidfile);
  if (!pid) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < 120; i++) {
    try { process.kill(pid, 0); } catch { return; }
    await sleep(250);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

function startDockerd(i: number): void {
  const n = names(i);
  const child = spawn('nsenter', [
    `--net=/var/run/netns/${n.ns}`, 'dockerd',
    '--data-root', n.data, '--exec-root', `${n.run}/exec`, '-H', `unix://${n.run}/docker.sock`, '--pidfile', `${n.run}/docker.pid`,
    '--bip', n.bip, '--default-address-pool', `base=${n.pool},size=28`,
  ], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
  child.unref();
}

async function waitEngine(docker: Docker, what: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (await docker.ping().then(() => true, () => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: dockerd did not answer`);
}

/** Removes every trace of earlier runs too (an interrupted test): namespaces, links, routes, dockerds, directories. */
async function removeAll(count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const n = names(i);
    await stopDockerd(`${n.run}/docker.pid`);
    tryRun('ip', ['netns', 'del', n.ns]);
    tryRun('ip', ['link', 'del', n.vethRoot]);
    tryRun('ip', ['route', 'del', n.bip.replace('.1/24', '.0/24')]);
    tryRun('ip', ['route', 'del', n.pool]);
    // overlay mounts a killed dockerd left behind must go before its directories
    for (const line of run('findmnt', ['-rn', '-o', 'TARGET']).split('\n').filter((l) => l.startsWith(n.data) || l.startsWith(n.run)).reverse()) {
      tryRun('umount', ['-l', line]);
    }
    rmSync(n.run, { recursive: true, force: true });
    rmSync(n.data, { recursive: true, force: true });
  }
  while (run('iptables', ['-S', 'DOCKER-USER']).includes(`-i ${bridge} -o ${bridge} -j ACCEPT`)) {
    run('iptables', ['-D', 'DOCKER-USER', '-i', bridge, '-o', bridge, '-j', 'ACCEPT']);
  }
  tryRun('ip', ['link', 'del', bridge]);
}

export async function startMachines(hostIds: string[], o: { images: string[] }): Promise<Machines> {
  const count = hostIds.length;
  const teardown = () => removeAll(Math.max(count, 3));
  await teardown();
  try {
    run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${bridgeAddress}/24`, 'dev', bridge]);
    run('ip', ['link', 'set', bridge, 'up']);
    // Docker's FORWARD policy drops bridged traffic between the machines (br_netfilter); this bridge is ours.
    run('iptables', ['-I', 'DOCKER-USER', '-i', bridge, '-o', bridge, '-j', 'ACCEPT']);
    const machines: Machine[] = [];
    for (const [idx, hostId] of hostIds.entries()) {
      const i = idx + 1;
      const n = names(i);
      run('ip', ['netns', 'add', n.ns]);
      run('ip', ['link', 'add', n.vethRoot, 'type', 'veth', 'peer', 'name', n.vethNs]);
      run('ip', ['link', 'set', n.vethRoot, 'master', bridge, 'up']);
      run('ip', ['link', 'set', n.vethNs, 'netns', n.ns]);
      run('ip', ['-n', n.ns, 'link', 'set', n.vethNs, 'name', 'eth0']);
      run('ip', ['-n', n.ns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', n.ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', n.ns, 'route', 'add', 'default', 'via', bridgeAddress]);
      run('ip', ['route', 'add', n.bip.replace('.1/24', '.0/24'), 'via', n.address]);
      run('ip', ['route', 'add', n.pool, 'via', n.address]);
      mkdirSync(n.run, { recursive: true });
      mkdirSync(n.data, { recursive: true });
      startDockerd(i);
      const docker = createDocker(`unix://${n.run}/docker.sock`);
      await waitEngine(docker, hostId);
      // The agent reaches its containers by address, from outside the namespace (as the machine's own host would).
      inNs(n.ns, 'iptables', ['-I', 'DOCKER-USER', '-i', 'eth0', '-j', 'ACCEPT']);
      machines.push({
        hostId, address: n.address, dockerHost: `unix://${n.run}/docker.sock`, docker,
        stopEngine: () => stopDockerd(`${n.run}/docker.pid`),
        startEngine: async () => {
          startDockerd(i);
          await waitEngine(docker, hostId);
          if (!inNs(n.ns, 'iptables', ['-S', 'DOCKER-USER']).includes('-i eth0 -j ACCEPT')) inNs(n.ns, 'iptables', ['-I', 'DOCKER-USER', '-i', 'eth0', '-j', 'ACCEPT']);
        },
      });
    }
    // One image at a time: two cores.
    for (const m of machines) {
      for (const image of o.images) execFileSync('sh', ['-c', `docker save '${image}' | docker -H '${m.dockerHost}' load -q`], { stdio: 'ignore' });
    }
    return { machines, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** True when no trace of the machines is left (for the test's last assertion). */
export function machinesGone(): boolean {
  return !existsSync(runRoot + '/1') && !run('ip', ['-o', 'link']).includes(`${prefix}`) && !run('ip', ['netns', 'list']).includes(prefix);
}
