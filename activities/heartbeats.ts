// Keeping a long activity alive: heartbeats while it polls for an outcome or waits on one blocking call, so the
// step's heartbeat timeout notices a dead worker but never a slow Patroni or Docker.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';

/**
 * Calls `check` every 500 ms until it returns a value (anything but `{ waiting }`), heartbeating with the reason it
 * waits; after timeoutMs throws (retryable) with the last reason. Stops when the activity is cancelled.
 */
export async function pollUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | { waiting: string }>): Promise<T> {
  const ctx = Context.current();
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const r = await check();
    if (!(r !== null && typeof r === 'object' && 'waiting' in (r as object))) return r as T;
    last = (r as { waiting: string }).waiting;
    ctx.heartbeat(last);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await Promise.race([sleep(500), ctx.cancelled]);
  }
}

/** Heartbeats every 5 s while `p` is pending (Patroni's answer, docker stop, a one-off container). */
export async function whileBeating<T>(p: Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 5000);
  try { return await p; } finally { clearInterval(timer); }
}
