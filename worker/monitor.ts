// The per-host instance monitor: every few seconds, what Docker, Patroni and the replication layer say about each
// instance on this host, written to the store (the API derives instance state from it). It also repairs what
// nothing else does:
// - an apply worker that stayed down (after its provider had no primary for a while) is disabled and enabled again;
// - on a primary with replicas, the logical slots its subscribers read are kept declared as Patroni permanent
//   slots (a node that got a replica or a subscriber since the last operation is covered too);
// - a container that died without stop-instance is started again once its node had time to fail over, so it
//   comes back as a replica;
// - a container that Docker started by itself (its restart policy, the engine's or the host's restart) waits for
//   its secrets, which live in memory only: they are delivered again (activities/docker/instance-secrets.ts); so
//   is a service container's configuration (activities/services/service-secrets.ts);
// - a pooler follows its node's primary: its pgbouncer.ini is delivered again and PgBouncer reloads it;
// - a primary whose commits wait for a synchronous standby that is gone has it released
//   (activities/patroni/synchronous.ts), whatever task runs: that task's own writes wait too.
// On a primary it also reports replication lag (its slots and replicas, worker/replication-lag.ts) and, now and then,
// what its backup repositories hold (worker/backup-info.ts), for the status report and the metrics.
import { inspectContainerOrNull, publishedPort } from '../activities/docker/client.js';
import { deliverInstanceSecrets, legacyContainerNote, secretMountsOf, startInstance } from '../activities/docker/instance-secrets.js';
import type { HostDeps } from '../activities/deps.js';
import { instanceAddress, onNetwork, type InstanceAddress } from '../activities/addresses.js';
import { containerAddress } from '../activities/docker/network.js';
import { manifestEntry } from '../activities/docker/images.js';
import { formatServerVersion, getPatroniCluster, getPatroniStatus } from '../activities/patroni/client.js';
import { syncPermanentSlots } from '../activities/patroni/ha.js';
import { goneSynchronousStandby, keepSynchronousMode, releaseGoneSynchronousStandby } from '../activities/patroni/synchronous.js';
import { recordedSlots } from '../activities/replication/slot-owners.js';
import { withClient } from '../activities/postgres/connect.js';
import { driverFor } from '../activities/replication/index.js';
import { getDatabase, getDatabaseSecrets, type DatabaseSecrets } from '../store/databases.js';
import { listInstances, listInstancesOnHost, writeInstanceStatus, type BackupStatus, type InstanceRecord, type InstanceStatus } from '../store/instances.js';
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import { nodeBackupConfig } from '../workflows/model/backup.js';
import { secretValues, specRepositories } from '../workflows/model/backup-repository.js';
import { ids } from '../workflows/model/ids.js';
import { planInstances } from '../workflows/model/instances.js';
import { readBackupInfo } from './backup-info.js';
import { observeServiceInstance } from '../activities/services/service-instances.js';
import { pointPooler, redeliverIfWaiting } from '../activities/services/service-secrets.js';
import { loadDatabase } from '../activities/database-context.js';
import { listServiceInstancesOnHost, writeServiceInstanceStatus, type ServiceInstanceRecord } from '../store/services.js';
import { getHost } from '../store/hosts.js';
import { serviceIds } from '../workflows/model/services.js';
import { LsnHistory, lostSlotsError, promotableSyncState, readReplicationLag } from './replication-lag.js';
import { isPromotableStandby } from '../workflows/model/ha.js';
import type { Logger } from '../platform/logger.js';

/** The host's deps (deliveries render the instances' configurations) and a logger. */
export type MonitorDeps = HostDeps & { log: Logger };

/** How long a subscription may stay down before the monitor restarts its apply worker. */
export const subscriptionRepairAfterMs = 4_000;
/**
 * A dead container is started again once another member leads its node (else it could take its old leader key
 * back before it expires, and no replica would be promoted), or after this long when none does.
 */
export const restartDeadAfterMs = 60_000;
/** How often a primary's backup repositories are read (pgbackrest info may reach an object store). */
export const backupInfoEveryMs = 30_000;
/** How long a running service instance may be unhealthy (or its container missing) before it reads failed. */
export const serviceFailGraceMs = 30_000;
/** How long commits may wait for a synchronous standby that no longer streams before it is released (Patroni's own drop takes a loop or two). */
export const goneStandbyReleaseAfterMs = 8_000;
/** How often a primary's node is checked to be in synchronous mode still. */
const synchronousModeCheckMs = 30_000;
/** How long a repair stays reported on the instance. */
const repairShownMs = 60_000;
/** How often the subscribers are asked again which slots are theirs while a slot stays unknown. */
const slotOwnersEveryMs = 30_000;
/**
 * How long a round waits for one instance. A Docker call about a container can hang (Docker 20.10: an exec that met
 * a pause, activities/docker/cgroup.ts): the round then goes on without it, the host's other instances are still
 * observed every round, and the hung one is not asked again until its call ends (its report goes stale meanwhile).
 */
const observeWaitMs = 5_000;
/** After how long an observation that has not ended is logged. */
const observeWarnMs = 30_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createMonitor(deps: MonitorDeps) {
  const downSince = new Map<string, number>();
  const deadSince = new Map<string, number>();
  const stuckSince = new Map<string, number>();
  const syncCheckedAt = new Map<string, number>();
  const repaired = new Map<string, { text: string; at: number }>();
  /** Observations in progress, by key; none started, and no dead container restarted, once stopped. */
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  const walHistory = new Map<string, LsnHistory>();
  const backups = new Map<string, { at: number; value: BackupStatus }>();
  /** Running instances whose container an earlier version made (told on their status until an update). */
  const legacy = new Set<string>();
  /** Per pooler container id, the pgbouncer.ini last delivered into it (an unchanged round costs no exec). */
  const poolerInis = new Map<string, string>();

  const historyOf = (instanceId: string) => walHistory.get(instanceId) ?? walHistory.set(instanceId, new LsnHistory()).get(instanceId)!;
  /** Per primary, which subscriber node each logical slot serves, as the subscribers record it (asked again when a slot is new, at most every 30 s). */
  const owners = new Map<string, { at: number; owners: Record<string, string> }>();

  async function slotOwnersOf(rec: InstanceRecord, db: { spec: DatabaseSpec; secrets: DatabaseSecrets }, slots: string[]): Promise<Record<string, string>> {
    const cached = owners.get(rec.id);
    if (cached && (slots.every((s) => Object.hasOwn(cached.owners, s)) || Date.now() - cached.at < slotOwnersEveryMs)) return cached.owners;
    const subscribers = db.spec.nodes.map((n) => n.name).filter((n) => n !== rec.nodeName);
    const found = await recordedSlots(deps, { databaseId: rec.databaseId, ...db, instances: planInstances(rec.databaseId, db.spec) }, rec.nodeName, subscribers);
    const value = Object.fromEntries(Object.entries(found.slots).map(([node, slot]) => [slot, node]));
    owners.set(rec.id, { at: Date.now(), owners: value });
    return value;
  }

  async function backupStatus(rec: InstanceRecord, spec: DatabaseSpec): Promise<BackupStatus | undefined> {
    if (!nodeBackupConfig(spec, rec.nodeName)) { backups.delete(rec.id); return undefined; }
    const cached = backups.get(rec.id);
    if (cached && Date.now() - cached.at < backupInfoEveryMs) return cached.value;
    const value = await readBackupInfo(deps.docker, rec.id, secretValues(specRepositories(spec)))
      .catch((err: unknown): BackupStatus => ({ checkedAt: new Date().toISOString(), count: 0, error: `pgbackrest info: ${errorText(err)}` }));
    backups.set(rec.id, { at: Date.now(), value });
    return value;
  }

  async function observe(rec: InstanceRecord): Promise<InstanceStatus> {
    const info = await inspectContainerOrNull(deps.docker, rec.id);
    if (!info?.State.Running) {
      // Not while a task works on the database: a restore stops the instance on purpose and writes its volume.
      const settled = ['available', 'degraded'].includes((await getDatabase(deps.store, rec.databaseId))?.state ?? '');
      if (info && settled && !rec.stopped && rec.state === 'available' && !stopped) await restartDead(rec);
      return { containerRunning: false };
    }
    deadSince.delete(rec.id);
    if (secretMountsOf(info)) legacy.delete(rec.id);
    else legacy.add(rec.id);
    const port = publishedPort(info, '5432/tcp') ?? undefined;
    // A frozen container is not looked into (fencing watches it): its Patroni cannot answer, and an exec (the secrets
    // probe below, pgbackrest info) that meets a pause hangs every Docker 20.10 call about the container.
    if (info.State.Paused) return { containerRunning: true, ...(port ? { port } : {}), patroniState: 'unknown', error: 'its container is paused' };
    const inner = containerAddress(info, ids.network(rec.databaseId));
    const ip = inner ? onNetwork(inner) : null;
    const patroni = ip ? await getPatroniStatus(ip) : null;
    const status: InstanceStatus = { containerRunning: true, ...(port ? { port } : {}) };
    if (!patroni || !ip) {
      // a container started by Docker itself waits for its secrets
      const delivered = await deliverInstanceSecrets(deps, rec.databaseId, rec.id, { onlyIfWaiting: true });
      if (delivered.delivered) deps.log.warn({ instanceId: rec.id }, 'instance container was waiting for its configuration: delivered');
      return { ...status, patroniState: 'unknown' };
    }
    Object.assign(status, {
      patroniState: patroni.state,
      ...(patroni.role !== 'unknown' ? { role: patroni.role } : {}),
      pendingRestart: patroni.pendingRestart,
      postgresVersion: formatServerVersion(patroni.serverVersion),
    });
    if (patroni.role !== 'primary' || patroni.state !== 'running') { walHistory.delete(rec.id); stuckSince.delete(rec.id); return status; }
    const db = await getDatabaseSecrets(deps.store, rec.databaseId);
    if (!db) return status;
    await releaseGoneStandby(rec, ip, db.secrets).catch((err: unknown) => { status.error ??= `synchronous standby: ${errorText(err)}`; });
    // While a task changes the database (a join pauses subscriptions on purpose, a reset drops slots), it owns
    // the subscriptions and the slot declarations: the monitor only observes.
    const settled = ['available', 'degraded'].includes((await getDatabase(deps.store, rec.databaseId))?.state ?? '');
    const plan = planInstances(rec.databaseId, db.spec).find((i) => i.instanceId === rec.id);
    const driver = driverFor(manifestEntry(plan?.postgresMajor ?? '')?.driver ?? 'pglogical');
    try {
      if (settled && (db.spec.nodes.find((n) => n.name === rec.nodeName)?.host_ids.length ?? 0) > 1) {
        await syncPermanentSlots(deps, ip, { databaseId: rec.databaseId, ...db }, rec.nodeName);
      }
      status.replication = await withClient(ip, db.secrets, db.spec.database_name, async (c) => {
        const subs = await driver.subscriptions(c);
        for (const s of subs) {
          const restarted = settled && await repair(rec.id, s.name, s.status, () => driver.restartSubscription(c, s.name));
          if (restarted) repaired.set(rec.id, { text: `subscription ${s.name} was down: its apply worker was restarted at ${new Date().toISOString()}`, at: Date.now() });
        }
        const slotOwners = (names: string[]) => slotOwnersOf(rec, db, names);
        status.lag = await readReplicationLag(c, { nodeName: rec.nodeName, slotOwners, history: historyOf(rec.id) })
          .catch((err: unknown) => { status.error ??= `replication lag: ${errorText(err)}`; return undefined; });
        if (status.lag?.replicas.some((r) => r.syncState === 'sync')) {
          const members = (await getPatroniCluster(ip))?.members ?? [];
          status.lag.replicas = promotableSyncState(status.lag.replicas, members.filter(isPromotableStandby).map((m) => m.name));
        }
        const lost = status.lag ? lostSlotsError(status.lag.slots) : undefined;
        if (lost) status.error ??= lost;
        return {
          readOnly: await driver.readOnly(c),
          version: await driver.version(c),
          subscriptions: subs.map((s) => ({ provider_node: s.providerNode, name: s.name, status: s.status })),
        };
      });
    } catch (err) {
      status.error = `replication status: ${errorText(err)}`;
    }
    const backup = await backupStatus(rec, db.spec);
    if (backup) status.backup = backup;
    const note = repaired.get(rec.id);
    if (note && Date.now() - note.at < repairShownMs) status.error ??= note.text;
    return status;
  }

  async function releaseGoneStandby(rec: InstanceRecord, ip: InstanceAddress, secrets: DatabaseSecrets): Promise<void> {
    const ssn = await goneSynchronousStandby(ip, secrets);
    if (!ssn) {
      stuckSince.delete(rec.id);
      if (Date.now() - (syncCheckedAt.get(rec.id) ?? 0) < synchronousModeCheckMs) return;
      syncCheckedAt.set(rec.id, Date.now());
      if (await keepSynchronousMode(ip, secrets)) deps.log.warn({ instanceId: rec.id }, 'synchronous mode was off for this node: turned on again');
      return;
    }
    const since = stuckSince.get(rec.id) ?? Date.now();
    stuckSince.set(rec.id, since);
    if (Date.now() - since < goneStandbyReleaseAfterMs) return;
    stuckSince.delete(rec.id);
    deps.log.warn({ instanceId: rec.id, synchronousStandbyNames: ssn }, 'commits waited for a synchronous standby that no longer streams: releasing it');
    await releaseGoneSynchronousStandby(ip, secrets);
    repaired.set(rec.id, { text: `commits waited for synchronous standby ${ssn}, which no longer streamed: released at ${new Date().toISOString()}`, at: Date.now() });
  }

  async function otherMemberLeads(rec: InstanceRecord): Promise<boolean> {
    const others = (await listInstances(deps.store, rec.databaseId)).filter((i) => i.nodeName === rec.nodeName && i.id !== rec.id);
    for (const o of others) {
      const ip = await instanceAddress(deps, rec.databaseId, o.id);
      const cluster = ip ? await getPatroniCluster(ip) : null;
      if (cluster) return cluster.leader !== null && cluster.leader !== rec.id;
    }
    return false;
  }

  async function restartDead(rec: InstanceRecord): Promise<void> {
    const since = deadSince.get(rec.id) ?? Date.now();
    deadSince.set(rec.id, since);
    if (Date.now() - since < restartDeadAfterMs && !(await otherMemberLeads(rec))) return;
    deadSince.delete(rec.id);
    deps.log.warn({ instanceId: rec.id }, 'instance container died: starting it again');
    await startInstance(deps, rec.databaseId, rec.id);
  }

  async function repair(instanceId: string, sub: string, state: string, restart: () => Promise<void>): Promise<boolean> {
    const key = `${instanceId}/${sub}`;
    if (state !== 'down') { downSince.delete(key); return false; }
    const since = downSince.get(key) ?? Date.now();
    downSince.set(key, since);
    if (Date.now() - since < subscriptionRepairAfterMs) return false;
    deps.log.warn({ instanceId, subscription: sub }, 'subscription down: restarting its apply worker');
    downSince.delete(key);
    await restart();
    return true;
  }

  /**
   * A service instance's container and health (pgEdge §7.3): running → failed when unhealthy or missing past a grace
   * after its last change, failed → running once healthy again; creating and deleting belong to the workflows.
   */
  async function observeService(rec: ServiceInstanceRecord): Promise<void> {
    const spec = (await getDatabase(deps.store, rec.databaseId))?.spec;
    const svc = spec?.services?.find((s) => s.service_id === rec.serviceId);
    if (!svc) return;
    const hostAddress = (await getHost(deps.store, deps.hostId))?.address ?? '';
    const container = serviceIds.container(rec.databaseId, rec.serviceId, rec.hostId);
    const status = await observeServiceInstance(deps.docker, rec.databaseId, container, hostAddress, svc.version, svc.service_type);
    // a container Docker started by itself waits for its configuration, which lives in its memory only
    if (!status.ready && rec.state !== 'deleting' && await redeliverIfWaiting(deps, await loadDatabase(deps.store, rec.databaseId), svc, container)) {
      deps.log.warn({ serviceInstanceId: rec.id }, 'service container was waiting for its configuration: delivered');
    }
    // a pooler follows its node's primary (switchover, failover, restore): repointed and reloaded, no API call
    if (svc.service_type === 'pgbouncer' && status.ready && status.containerId && ['running', 'failed'].includes(rec.state)) {
      const r = await pointPooler(deps, await loadDatabase(deps.store, rec.databaseId), svc, status.containerId, poolerInis);
      if (r.moved) deps.log.info({ serviceInstanceId: rec.id, primary: r.target }, 'pooler pointed at its node\'s new primary');
    }
    const graceOver = Date.now() - rec.updatedAt.getTime() > serviceFailGraceMs;
    const move = status.ready
      ? { from: ['failed' as const], to: 'running' as const, error: null }
      : graceOver ? { from: ['running' as const], to: 'failed' as const, error: status.health?.message ?? 'unhealthy' } : undefined;
    if (move?.to === 'running' && rec.error?.startsWith('unsupported version')) return; // a spec error: only an update fixes it
    await writeServiceInstanceStatus(deps.store, rec.id, status, move);
  }

  async function observeAndWrite(rec: InstanceRecord): Promise<void> {
    const status = await observe(rec).catch((err: unknown): InstanceStatus => ({ containerRunning: false, error: errorText(err) }));
    if (legacy.has(rec.id)) status.error ??= legacyContainerNote;
    if (!stopped) await writeInstanceStatus(deps.store, rec.id, status);
  }

  /**
   * One observation (`key`: an instance or a service instance), waited for at most observeWaitMs, never two at once
   * for one key; every one still running is kept, for `settle`.
   */
  async function bounded(key: string, what: string, run: () => Promise<void>): Promise<void> {
    if (inFlight.has(key)) return;
    const slow = setTimeout(() => deps.log.warn({ key }, `no answer about ${what} for ${observeWarnMs / 1000} s (Docker or its Patroni): its status goes stale until it answers; the host's others are still observed`), observeWarnMs);
    slow.unref();
    const p = run()
      .catch((err: unknown) => deps.log.warn({ key, err: errorText(err) }, `monitor of ${what} failed`))
      .finally(() => { inFlight.delete(key); clearTimeout(slow); });
    inFlight.set(key, p);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise((r) => { timer = setTimeout(r, observeWaitMs); })]).finally(() => clearTimeout(timer));
  }

  return {
    async tick(): Promise<void> {
      if (stopped) return;
      const [instances, services] = await Promise.all([listInstancesOnHost(deps.store, deps.hostId), listServiceInstancesOnHost(deps.store, deps.hostId)]);
      await Promise.all([
        ...instances.map((rec) => bounded(`instance:${rec.id}`, `instance ${rec.id}`, () => observeAndWrite(rec))),
        ...services.map((rec) => bounded(`service:${rec.id}`, `service instance ${rec.id}`, () => observeService(rec))),
      ]);
    },
    /** No new observation or restart from now on; waits up to `ms` for those running (a hung one is left). */
    async settle(ms: number): Promise<void> {
      stopped = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inFlight.values()), new Promise((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
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
  return { stop: async () => { clearInterval(timer); await running; await monitor.settle(observeWaitMs); } };
}
