// A one-off container: runs a script to its end, heartbeating meanwhile, and returns its exit code and output; it
// is removed afterwards. Without a run key, a predecessor of the same name (a killed attempt's) is removed first.
// With one (the task's id), the run is single-flight: a retried step finds the container an earlier attempt of the
// same task started and joins it — waits for it if it still runs, reads its result if it ended — and never starts
// the script a second time; an attempt that is no longer the current one (its heartbeat timed out, its worker
// shuts down) stops waiting and leaves the container to the retry.
import type Docker from 'dockerode';
import { Context } from '@temporalio/activity';
import { whileBeating } from '../heartbeats.js';
import { inspectContainerOrNull, isNotFound, labels, removeContainer } from './client.js';

export interface OneOffSpec {
  name: string;
  image: string;
  /** Run as `sh -c script`. */
  script: string;
  user: string;
  labels: Record<string, string>;
  hostConfig: Docker.HostConfig;
  /**
   * Run once the container has started (what it waits for, e.g. its secrets); on failure the container is killed.
   * Run again when a retry joins a container that still runs, so it must be safe to repeat.
   */
  afterStart?: (containerId: string) => Promise<void>;
  /** The run's key (the task's id): a container of this name and key is joined, never started again. */
  runKey?: string;
}

/** A container's log without a TTY: frames of an 8-byte header (stream, 3 zero bytes, length) and the payload. */
export function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length;) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out;
}

/**
 * Pure: whether a container found under a one-off's name is the same run, to be joined: it carries the run's key and
 * its script has started (one only created never ran it; one being removed has already handed its result over).
 */
export function isJoinable(info: { Config: { Labels?: Record<string, string> | null }; State: { Status: string } }, runKey: string | undefined): boolean {
  return !!runKey && info.Config.Labels?.[labels.runKey] === runKey && ['running', 'paused', 'restarting', 'exited'].includes(info.State.Status);
}

/** Its output as non-empty lines, trailing blanks trimmed. */
export async function runOneOff(docker: Docker, o: OneOffSpec): Promise<{ code: number; lines: string[] }> {
  const earlier = await inspectContainerOrNull(docker, o.name);
  if (earlier && isJoinable(earlier, o.runKey)) return join(docker, o, earlier);
  await removeContainer(docker, o.name);
  const c = await docker.createContainer({
    name: o.name, Image: o.image, User: o.user, Entrypoint: ['sh', '-c', o.script], HostConfig: o.hostConfig,
    Labels: { ...o.labels, ...(o.runKey ? { [labels.runKey]: o.runKey } : {}) },
  });
  return finish(docker, o, c, async () => {
    await c.start();
    await deliver(o, c);
  });
}

/** A retry's: the earlier attempt's container (its secrets delivered again while it runs), awaited. */
async function join(docker: Docker, o: OneOffSpec, info: Docker.ContainerInspectInfo) {
  const c = docker.getContainer(info.Id);
  return finish(docker, o, c, async () => {
    if (info.State.Running) await deliver(o, c);
  });
}

async function deliver(o: OneOffSpec, c: Docker.Container) {
  if (!o.afterStart) return;
  try {
    await o.afterStart(c.id);
  } catch (err) {
    await c.kill().catch(() => undefined);
    throw err;
  }
}

/**
 * Waits for the container's end and reads its result, then removes it. Keyed, an attempt told it is no longer the
 * current one (anything but the task's own cancellation) leaves the container running for the retry to join.
 */
async function finish(docker: Docker, o: OneOffSpec, c: Docker.Container, begin: () => Promise<void>) {
  let handedOver = false;
  try {
    return await whileBeating((async () => {
      await begin();
      const { StatusCode } = await untilEnded(c, o.runKey ? () => { handedOver = true; } : null);
      const lines = await c.logs({ stdout: true, stderr: true }).then((b) => demux(b).split('\n').map((l) => l.trimEnd()).filter(Boolean), (err: unknown) => {
        if (isNotFound(err)) return [`(the output of ${o.name} went with its container)`];
        throw err;
      });
      return { code: StatusCode as number, lines };
    })());
  } finally {
    if (!handedOver) await removeContainer(docker, o.name);
  }
}

/** The container's end; with `handOver`, a cancellation other than the task's ends the wait (and calls it). */
async function untilEnded(c: Docker.Container, handOver: (() => void) | null): Promise<{ StatusCode: number }> {
  const ended = c.wait() as Promise<{ StatusCode: number }>;
  if (!handOver) return ended;
  ended.catch(() => undefined); // still awaited below, or left to the retry
  const ctx = Context.current();
  try {
    return await Promise.race([ended, ctx.cancelled]);
  } catch (err) {
    const why = ctx.cancellationDetails;
    if (why?.cancelRequested) return ended; // the task's own cancellation: run to the end and clean up, as unkeyed
    if (why) handOver();
    throw err;
  }
}
