// Docker volumes: an instance's data. Creating one that exists returns it (Docker's own idempotence); removing one
// that is gone is fine.
import type Docker from 'dockerode';
import { isNotFound } from './client.js';

export async function ensureVolume(docker: Docker, name: string, labels: Record<string, string>): Promise<void> {
  await docker.createVolume({ Name: name, Labels: labels });
}

export async function removeVolume(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getVolume(name).remove({ force: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
