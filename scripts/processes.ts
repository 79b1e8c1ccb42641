// Child processes of the launcher: spawned with their output in a log file, stopped with SIGTERM then SIGKILL.
// A supervised child (a worker, the API) is started again when it exits on its own, after a backoff that grows
// while it keeps crashing soon after start: one crashed process never takes the others down.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Managed { name: string; child: ChildProcess; logFile: string; stop: () => Promise<void> }

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}


export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(200);
  }
}

/** Log files are the owner's alone (0600, in a 0700 directory): they may hold what a process printed of its work. */
export function openLog(logDir: string, name: string): { logFile: string; fd: number } {
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  chmodSync(logDir, 0o700);
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a', 0o600);
  chmodSync(logFile, 0o600); // a log of an earlier version may be 0644
  return { logFile, fd };
}

/**
 * `umask`: the file mode creation mask of the child (the stack's services: 0o077, so what they write — Temporal's
 * SQLite file, etcd's and Postgres's files — is the owner's alone). Node sets no umask per child: a shell does.
 */
export function spawnManaged(name: string, command: string, args: string[], opts: { logDir: string; env?: NodeJS.ProcessEnv; cwd?: string; umask?: number }): Managed {
  const { logFile, fd } = openLog(opts.logDir, name);
  const [cmd, argv] = opts.umask === undefined ? [command, args] : ['/bin/sh', ['-c', `umask ${opts.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, command, ...args]];
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface Supervised {
  name: string;
  logFile: string;
  /** The current process; a new one after each restart. */
  readonly child: ChildProcess;
  /** Restarts so far. */
  readonly restarts: number;
  stop: () => Promise<void>;
}

export interface Backoff {
  /** Delay before the first restart. */
  initialMs: number;
  /** The delay doubles at each crash in a row, up to this. */
  maxMs: number;
  /** A process that ran this long before it exited starts the sequence again from initialMs. */
  resetAfterMs: number;
}

export const defaultBackoff: Backoff = { initialMs: 250, maxMs: 30_000, resetAfterMs: 60_000 };

/** The delay before restart number `crashesInARow` (1-based): initialMs, doubled each time, capped at maxMs. */
export function restartDelay(crashesInARow: number, b: Backoff = defaultBackoff): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, crashesInARow - 1));
}

/**
 * Runs a child and starts it again whenever it exits without stop() — a crash, a kill -9 — after restartDelay().
 * `report` receives one line per start and exit (the launcher prints them).
 */
export function superviseManaged(
  name: string, command: string, args: string[],
  opts: { logDir: string; env?: NodeJS.ProcessEnv; cwd?: string; umask?: number; report: (line: string) => void; backoff?: Backoff },
): Supervised {
  const backoff = opts.backoff ?? defaultBackoff;
  let current = spawnManaged(name, command, args, opts);
  let restarts = 0;
  let crashesInARow = 0;
  let stopping = false;
  let pending: NodeJS.Timeout | null = null;
  const watch = (m: Managed) => {
    const startedAt = Date.now();
    opts.report(`${name} started (pid ${m.child.pid})`);
    m.child.once('exit', (code, signal) => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      crashesInARow = ranMs >= backoff.resetAfterMs ? 1 : crashesInARow + 1;
      const delay = restartDelay(crashesInARow, backoff);
      opts.report(`${name} exited (${signal ? `signal ${signal}` : `code ${code}`}) after ${(ranMs / 1000).toFixed(1)} s; ` +
        `restarting in ${(delay / 1000).toFixed(2)} s (see ${m.logFile})`);
      pending = setTimeout(() => {
        pending = null;
        if (stopping) return;
        restarts += 1;
        current = spawnManaged(name, command, args, opts);
        watch(current);
      }, delay);
    });
  };
  watch(current);
  return {
    name,
    logFile: current.logFile,
    get child() { return current.child; },
    get restarts() { return restarts; },
    stop: async () => {
      stopping = true;
      if (pending) clearTimeout(pending);
      await current.stop();
    },
  };
}
