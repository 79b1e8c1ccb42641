// The baseline: a bare script (docker + SQL, no Patroni, no Temporal) that builds the same N-node pglogical mesh
// from the same image, until every subscription replicates.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import pg from 'pg';
import { removeContainer } from '../activities/docker/client.js';
import { containerAddress, removeNetwork } from '../activities/docker/network.js';


async function connect(host: string, password: string, database: string): Promise<pg.Client> {
  for (;;) {
    const c = new pg.Client({ host, port: 5432, user: 'postgres', password, database, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      return c;
    } catch {
      await c.end().catch(() => undefined);
      await sleep(100);
    }
  }
}

export async function baselineMesh(docker: Docker, image: string, nodes: number): Promise<number> {
  const tag = randomBytes(3).toString('hex');
  const network = `pgcp-bench-${tag}`;
  const names = Array.from({ length: nodes }, (_, i) => `pgcp-bench-${tag}-n${i + 1}`);
  const password = randomBytes(12).toString('hex');
  const t0 = performance.now();
  try {
    await docker.createNetwork({ Name: network, Labels: { 'pgcp.purpose': 'bench' } });
    const ips = await Promise.all(names.map(async (name) => {
      const c = await docker.createContainer({
        name, Image: image, Env: [`PGCP_SUPERUSER_PASSWORD=${password}`], Labels: { 'pgcp.purpose': 'bench' },
        HostConfig: { Init: true, NetworkMode: network }, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } },
      });
      await c.start();
      return containerAddress(await c.inspect(), network)!;
    }));
    const dsn = (i: number) => `host=${names[i]} port=5432 dbname=example user=postgres password=${password}`;
    const clients = await Promise.all(ips.map(async (ip) => {
      const admin = await connect(ip, password, 'postgres');
      await admin.query('ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, pglogical_output');
      await admin.query('SELECT pg_reload_conf()');
      await admin.query('CREATE DATABASE example');
      await admin.end();
      const c = await connect(ip, password, 'example');
      await c.query('CREATE EXTENSION pglogical');
      return c;
    }));
    await Promise.all(clients.map((c, i) => c.query('SELECT pglogical.create_node(node_name := $1, dsn := $2)', [`n${i + 1}`, dsn(i)])));
    await Promise.all(clients.flatMap((c, i) => clients.map((_, j) => (i === j ? null : c.query(
      `SELECT pglogical.create_subscription(subscription_name := $1, provider_dsn := $2, synchronize_structure := false, synchronize_data := false, forward_origins := '{}')`,
      [`sub_n${i + 1}n${j + 1}`, dsn(j)],
    ))).filter(Boolean)));
    for (const c of clients) {
      for (;;) {
        const { rows } = await c.query<{ status: string }>('SELECT status FROM pglogical.show_subscription_status()');
        if (rows.length === nodes - 1 && rows.every((r) => r.status === 'replicating')) break;
        await sleep(100);
      }
    }
    const elapsed = performance.now() - t0;
    await Promise.all(clients.map((c) => c.end()));
    return elapsed;
  } finally {
    for (const n of names) await removeContainer(docker, n);
    await removeNetwork(docker, network);
  }
}
