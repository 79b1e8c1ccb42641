// Runs a command inside a container (docker exec), collecting its output line by line; `onLine` sees each line as
// it comes (an activity heartbeats with it). Output is demultiplexed: stdout and stderr interleave in arrival order.
// `stdin` is written to the command's standard input, then closed: how secrets reach a container (never argv or env).
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecResult { exitCode: number; lines: string[] }

export async function execIn(docker: Docker, container: string, cmd: string[], o: { user?: string; onLine?: (line: string) => void; stdin?: string } = {}): Promise<ExecResult> {
  const withStdin = o.stdin !== undefined;
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, User: o.user ?? 'postgres' });
  const stream = await exec.start({ hijack: true, stdin: withStdin });
  if (withStdin) stream.end(o.stdin);
  const out = new PassThrough();
  docker.modem.demuxStream(stream, out, out);
  const lines: string[] = [];
  let partial = '';
  out.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) { lines.push(l); o.onLine?.(l); }
  });
  await new Promise<void>((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
  if (partial) { lines.push(partial); o.onLine?.(partial); }
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, lines };
}
