// A container converged to its create options: kept when its spec-hash label matches them, else removed and made
// again (its named volumes keep the data), made when missing. Safe to repeat.
import type Docker from 'dockerode';
import { inspectContainerOrNull, isNotFound, isNotModified, labels, removeContainer } from './client.js';

export type ContainerOutcome = 'created' | 'recreated' | 'unchanged';

/** The container named by `options.name`, with its Docker id and what was done to it. */
export async function ensureContainer(docker: Docker, options: Docker.ContainerCreateOptions): Promise<{ id: string; outcome: ContainerOutcome }> {
  const name = options.name!;
  const existing = await inspectContainerOrNull(docker, name);
  if (existing && existing.Config.Labels?.[labels.specHash] === options.Labels?.[labels.specHash]) return { id: existing.Id, outcome: 'unchanged' };
  if (existing) {
    // a clean shutdown first (Patroni stops Postgres with a checkpoint), so the new container starts without recovery
    await docker.getContainer(name).stop({ t: 30 }).catch((err: unknown) => {
      if (!isNotFound(err) && !isNotModified(err)) throw err;
    });
    await removeContainer(docker, name);
  }
  const created = await docker.createContainer(options);
  return { id: created.id, outcome: existing ? 'recreated' : 'created' };
}
