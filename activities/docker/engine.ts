// Which Docker engine a host's agent talks to, as a short key: two hosts with the same key share an engine, so their
// instances can meet on one Docker network by container name; hosts with different keys cannot (activities/
// addresses.ts). The engine's ID alone does not tell engines apart: every dockerd started with the same
// /etc/docker/key.json (the same machine, a cloned VM image) reports the same ID, so its name (the machine's
// hostname) and data root are part of the key.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';

export async function dockerEngineKey(docker: Docker): Promise<string> {
  const info = (await docker.info()) as { ID?: string; Name?: string; DockerRootDir?: string };
  return createHash('sha1').update(`${info.ID ?? ''}\n${info.Name ?? ''}\n${info.DockerRootDir ?? ''}`).digest('hex').slice(0, 16);
}
