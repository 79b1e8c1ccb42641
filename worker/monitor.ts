// The per-host instance monitor: every few seconds, what Docker, Patroni and the replication layer say about each
// instance on this host, written to the store (the API derives instance state from it). It also repairs what
// pglogical does not: an apply worker that stayed down (e.g. after its provider had no primary for a while) is
// disabled and enabled again.
import type Docker from 'dockerode';
import { inspectContainerOrNull, publishedPort } from '../activities/docker/client.js';
import { containerAddress } from '../activities/docker/network.js';
import { manifestEntry } from '../activities/docker/images.js';
import { formatServerVersion, getPatroniStatus } from '../activities/patroni/client.js';
import { withClient } from '../activities/postgres/connect.js';
import { driverFor } from '../activities/replication/index.js';
import { getDatabaseSecrets, listInstancesOnHost, writeInstanceStatus, type InstanceRecord, type InstanceStatus } from '../activities/store/databases.js';
import type { Store } from '../activities/store/db.js';
import { ids } from '../workflows/model/ids.js';
import { planInstances } from '../workflows/model/instances.js';
import type { Logger } from './logger.js';

export interface MonitorDeps { store: Store; docker: Docker; hostId: string; log: Logger }

/** How long a subscription may stay down before the monitor restarts its apply worker. */
export const subscriptionRepairAfterMs = 20_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createMonitor(deps: MonitorDeps) {
  const downSince = new Map<string, number>();

  async function observe(rec: InstanceRecord): Promise<InstanceStatus> {
    const info = await inspectContainerOrNull(deps.docker, rec.id);
    if (!info?.State.Running) return { containerRunning: false };
    const port = publishedPort(info, '5432/tcp') ?? undefined;
    const ip = containerAddress(info, ids.network(rec.databaseId));
    const patroni = ip ? await getPatroniStatus(ip) : null;
    const status: InstanceStatus = { containerRunning: true, ...(port ? { port } : {}) };
    if (!patroni || !ip) return { ...status, patroniState: 'unknown' };
    Object.assign(status, {
      patroniState: patroni.state,
      ...(patroni.role !== 'unknown' ? { role: patroni.role } : {}),
      pendingRestart: patroni.pendingRestart,
      postgresVersion: formatServerVersion(patroni.serverVersion),
    });
    if (patroni.role !== 'primary' || patroni.state !== 'running') return status;
    const db = await getDatabaseSecrets(deps.store, rec.databaseId);
    if (!db) return status;
    const plan = planInstances(rec.databaseId, db.spec).find((i) => i.instanceId === rec.id);
    const driver = driverFor(manifestEntry(plan?.postgresMajor ?? '')?.driver ?? 'pglogical');
    try {
      status.replication = await withClient(ip, db.secrets, db.spec.database_name, async (c) => {
        const subs = await driver.subscriptions(c);
        for (const s of subs) await repair(rec.id, s.name, s.status, () => driver.restartSubscription(c, s.name));
        return {
          readOnly: await driver.readOnly(c),
          version: await driver.version(c),
          subscriptions: subs.map((s) => ({ provider_node: s.providerNode, name: s.name, status: s.status })),
        };
      });
    } catch (err) {
      status.error = `replication status: ${errorText(err)}`;
    }
    return status;
  }

  async function repair(instanceId: string, sub: string, state: string, restart: () => Promise<void>): Promise<void> {
    const key = `${instanceId}/${sub}`;
    if (state !== 'down') { downSince.delete(key); return; }
    const since = downSince.get(key) ?? Date.now();
    downSince.set(key, since);
    if (Date.now() - since < subscriptionRepairAfterMs) return;
    deps.log.warn({ instanceId, subscription: sub }, 'subscription down: restarting its apply worker');
    downSince.delete(key);
    await restart();
  }

  return {
    async tick(): Promise<void> {
      const instances = await listInstancesOnHost(deps.store, deps.hostId);
      await Promise.all(instances.map(async (rec) => {
        const status = await observe(rec).catch((err: unknown): InstanceStatus => ({ containerRunning: false, error: errorText(err) }));
        await writeInstanceStatus(deps.store, rec.id, status);
      }));
    },
  };
}

export function startMonitor(deps: MonitorDeps, intervalMs: number): { stop: () => Promise<void> } {
  const monitor = createMonitor(deps);
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // a slow round (a hung instance) never piles up rounds
    busy = true;
    running = monitor.tick().catch((err: unknown) => deps.log.warn({ err: errorText(err) }, 'monitor round failed')).finally(() => { busy = false; });
  }, intervalMs);
  return { stop: async () => { clearInterval(timer); await running; } };
}
