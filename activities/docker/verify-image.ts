// Runs a throw-away container from a built image, asks its Postgres for version(), and removes it.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import pg from 'pg';
import { ids } from '../../workflows/model/ids.js';
import { labels, publishedPort, removeContainer, startContainer } from './client.js';
import { requireBuiltImage } from './images.js';

export interface VerifyImageInput { major: string }
export interface VerifyImageResult { major: string; image: string; version: string; containerName: string }


export function verifyImageActivities(docker: Docker, hostId: string) {
  return {
    async verifyImage({ major }: VerifyImageInput): Promise<VerifyImageResult> {
      const ctx = Context.current();
      const entry = await requireBuiltImage(docker, major, `host ${hostId}`);
      const name = ids.verifyContainer(ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId, major);
      await removeContainer(docker, name); // a previous attempt's leftover
      const password = randomBytes(18).toString('base64url');
      try {
        const container = await docker.createContainer({
          name,
          Image: entry.image,
          Env: [`PGCP_SUPERUSER_PASSWORD=${password}`],
          Labels: { [labels.managed]: 'true', [labels.purpose]: 'verify-image', [labels.hostId]: hostId, [labels.namespace]: ctx.info.workflowNamespace ?? ctx.info.namespace },
          ExposedPorts: { '5432/tcp': {} },
          HostConfig: { Init: true, AutoRemove: false, PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        });
        await startContainer(container);
        const port = publishedPort(await container.inspect(), '5432/tcp');
        if (!port) throw new Error(`container ${name} has no published port`);
        const version = await queryVersion(port, password, ctx);
        return { major, image: entry.image, version, containerName: name };
      } finally {
        await removeContainer(docker, name);
      }
    },
  };
}

async function queryVersion(port: number, password: string, ctx: Context): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    ctx.heartbeat();
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string }>('select version()');
      return rows[0]?.version ?? '';
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Promise.race([sleep(300), ctx.cancelled]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
