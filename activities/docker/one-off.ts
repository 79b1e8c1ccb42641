// A one-off container: runs a script to its end, heartbeating meanwhile, and returns its exit code and output; it
// is removed afterwards, and a predecessor of the same name (a killed attempt's) is removed first.
import type Docker from 'dockerode';
import { whileBeating } from '../heartbeats.js';
import { removeContainer } from './client.js';

export interface OneOffSpec {
  name: string;
  image: string;
  /** Run as `sh -c script`. */
  script: string;
  user: string;
  labels: Record<string, string>;
  hostConfig: Docker.HostConfig;
  /** Run once the container has started (what it waits for, e.g. its secrets); on failure the container is killed. */
  afterStart?: (containerId: string) => Promise<void>;
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

/** Its output as non-empty lines, trailing blanks trimmed. */
export async function runOneOff(docker: Docker, o: OneOffSpec): Promise<{ code: number; lines: string[] }> {
  await removeContainer(docker, o.name);
  const c = await docker.createContainer({
    name: o.name, Image: o.image, User: o.user, Entrypoint: ['sh', '-c', o.script], Labels: o.labels, HostConfig: o.hostConfig,
  });
  try {
    return await whileBeating((async () => {
      await c.start();
      if (o.afterStart) {
        try {
          await o.afterStart(c.id);
        } catch (err) {
          await c.kill().catch(() => undefined);
          throw err;
        }
      }
      const { StatusCode } = await c.wait();
      const lines = demux(await c.logs({ stdout: true, stderr: true })).split('\n').map((l) => l.trimEnd()).filter(Boolean);
      return { code: StatusCode as number, lines };
    })());
  } finally {
    await removeContainer(docker, o.name);
  }
}
