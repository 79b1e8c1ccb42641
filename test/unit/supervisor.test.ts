// The launcher's supervisor: a child that exits on its own is started again after a growing delay; one stopped on
// purpose is not. (Short-lived `sh` children; no stack.)
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { restartDelay, superviseManaged } from '../../scripts/processes.js';

const logDir = mkdtempSync(path.join(os.tmpdir(), 'pgcp-supervisor-'));

it('restart delays double from the initial one up to the cap', () => {
  const b = { initialMs: 250, maxMs: 2000, resetAfterMs: 60_000 };
  expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, b))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
});

it('a crashing child is started again, with its exits reported, until stopped', async () => {
  const lines: string[] = [];
  const s = superviseManaged('crasher', 'sh', ['-c', 'exit 3'], { logDir, report: (l) => lines.push(l), backoff: { initialMs: 20, maxMs: 80, resetAfterMs: 60_000 } });
  await new Promise((r) => setTimeout(r, 600));
  await s.stop();
  const restarts = s.restarts;
  expect(restarts).toBeGreaterThanOrEqual(3);
  expect(lines.filter((l) => l.startsWith('crasher exited (code 3)')).length).toBeGreaterThanOrEqual(3);
  expect(lines.some((l) => l.includes('restarting in 0.08 s'))).toBe(true); // capped
  await new Promise((r) => setTimeout(r, 200));
  expect(s.restarts).toBe(restarts); // stop() ends the supervision
});

it('a child stopped on purpose is not started again', async () => {
  const lines: string[] = [];
  const s = superviseManaged('sleeper', 'sleep', ['30'], { logDir, report: (l) => lines.push(l), backoff: { initialMs: 10, maxMs: 10, resetAfterMs: 60_000 } });
  const pid = s.child.pid;
  await s.stop();
  await new Promise((r) => setTimeout(r, 100));
  expect(s.child.pid).toBe(pid);
  expect(lines).toEqual([`sleeper started (pid ${pid})`]);
});
