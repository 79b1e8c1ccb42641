// Thin dockerode layer: the status codes that mean "already done", the label keys (named in ids.ts, re-exported
// for every Docker caller), and small check-then-act helpers.
import Docker from 'dockerode';

export { labels } from '../../workflows/model/ids.js';

/** A client of the local engine, or of `endpoint` (`unix:///path` or `tcp://address:port`, PGCP_DOCKER_HOST). */
export function createDocker(endpoint?: string | null): Docker {
  if (!endpoint) return new Docker();
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const url = new URL(endpoint);
  return new Docker({ host: url.hostname, port: Number(url.port), protocol: 'http' });
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;
}

export const isNotFound = (err: unknown): boolean => statusOf(err) === 404;
export const isNotModified = (err: unknown): boolean => statusOf(err) === 304;
export const isConflict = (err: unknown): boolean => statusOf(err) === 409;

export async function inspectContainerOrNull(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | null> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function inspectImageOrNull(docker: Docker, name: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(name).inspect();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Removes a container and its anonymous volumes; a container already gone is fine. */
export async function removeContainer(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true, v: true });
  } catch (err) {
    if (!isNotFound(err) && !isConflictRemoval(err)) throw err;
  }
}

/** "removal of container … is already in progress" is a 409 that also means the job is being done. */
function isConflictRemoval(err: unknown): boolean {
  return isConflict(err) && /already in progress/.test(String((err as Error).message));
}

export async function startContainer(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    if (!isNotModified(err)) throw err;
  }
}

/** The host port Docker bound for a container port (published on an ephemeral port). */
export function publishedPort(info: Docker.ContainerInspectInfo, containerPort: string): number | null {
  const binding = info.NetworkSettings.Ports?.[containerPort]?.[0];
  return binding ? Number(binding.HostPort) : null;
}
