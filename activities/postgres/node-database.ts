// The application database on a node's primary: the database, its users, the owner, and the replication node.
import { ids } from '../../workflows/model/ids.js';
import { loadDatabase, type DatabaseContext, type NodeKey } from '../database-context.js';
import { pollUntil } from '../heartbeats.js';
import type { HostDeps } from '../deps.js';
import { instanceAddress, nodePostgresEndpoints, type InstanceAddress } from '../addresses.js';
import { getPatroniCluster } from '../patroni/client.js';
import { driverFor } from '../replication/index.js';
import { manifestEntry } from '../docker/images.js';
import { superUser } from '../patroni/config.js';
import { FailureType, permanent } from '../errors.js';
import { inContainer } from '../docker/instance-files.js';
import { connectInstance, withClient } from './connect.js';
import { createDatabaseStatement, nodeDsn, ownerStatement } from './sql.js';
import { convergeUsers, ownedObjects, usersToDrop } from './users.js';
import { runScript, type ScriptName } from './scripts.js';
import { restartIfExited } from '../docker/instance-start.js';

/** The node's current Patroni leader, read at each step: the primary may move during an operation. */
export async function resolvePrimary(
  deps: HostDeps, db: DatabaseContext, nodeName: string,
  o: { instanceIds?: string[]; timeoutMs?: number } = {},
): Promise<{ instanceId: string; address: InstanceAddress }> {
  const startedAt = new Map<string, number>();
  return pollUntil<{ instanceId: string; address: InstanceAddress }>(`a primary of node ${nodeName}`, o.timeoutMs ?? 2 * 60_000, async () => {
    const found = await findPrimary(deps, db, nodeName, o.instanceIds);
    if (found) return found;
    // A member killed while the task runs (the node's only one, a restore's replicas being rebuilt) comes back only
    // if started here: the monitor leaves the database to the task. Patroni decides who leads once it runs.
    // Only the spec's members (a node being removed is not brought back); a start that fails is waited past.
    const restarted: string[] = [];
    for (const id of memberIds(db, nodeName, o.instanceIds).filter((m) => db.instances.some((i) => i.instanceId === m))) {
      const did = await restartIfExited(deps, db.databaseId, id, startedAt, db).catch((err: unknown) => `${id} could not be started: ${err instanceof Error ? err.message : String(err)}`);
      if (did) restarted.push(did);
    }
    return { waiting: `no leader among ${memberIds(db, nodeName, o.instanceIds).join(', ')}${restarted.length ? `; ${restarted.join('; ')}` : ''}` };
  });
}

const memberIds = (db: Pick<DatabaseContext, 'instances'>, nodeName: string, instanceIds?: string[]) =>
  instanceIds ?? db.instances.filter((i) => i.nodeName === nodeName).map((i) => i.instanceId);

/**
 * The node's Patroni leader now, asked once (null when no member names one): usable outside an activity (the
 * monitor). A node the spec no longer names (being removed) is found by its recorded instances.
 */
export async function findPrimary(
  deps: Pick<HostDeps, 'docker' | 'store' | 'hostId'>, db: Pick<DatabaseContext, 'databaseId' | 'instances'>, nodeName: string, instanceIds?: string[],
): Promise<{ instanceId: string; address: InstanceAddress } | null> {
  for (const id of memberIds(db, nodeName, instanceIds)) {
    const ip = await instanceAddress(deps, db.databaseId, id);
    const leader = (ip ? await getPatroniCluster(ip) : null)?.leader;
    if (leader) {
      const leaderIp = await instanceAddress(deps, db.databaseId, leader);
      if (leaderIp) return { instanceId: leader, address: leaderIp };
    }
  }
  return null;
}

/**
 * The node's primary as its Postgres says (the member not in recovery), for a node whose Patroni this host cannot
 * reach (another machine's node that publishes no patroni_port) but whose Postgres it can.
 */
export async function findPrimaryByPostgres(
  deps: Pick<HostDeps, 'docker' | 'store' | 'hostId'>, db: Pick<DatabaseContext, 'databaseId' | 'instances' | 'secrets'>, nodeName: string, instanceIds?: string[],
): Promise<{ instanceId: string; address: InstanceAddress } | null> {
  for (const id of memberIds(db, nodeName, instanceIds)) {
    const ip = await instanceAddress(deps, db.databaseId, id);
    if (!ip) continue;
    const primary = await withClient(ip, db.secrets, 'postgres', async (c) => !(await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r)
      .catch(() => false);
    if (primary) return { instanceId: id, address: ip };
  }
  return null;
}

/** The DSN every instance of the database reaches a node by (activities/addresses.ts decides the addresses). */
export function replicationDsn(db: DatabaseContext, nodeName: string): string {
  const { hosts, ports } = nodePostgresEndpoints(db.topology, db.instances, nodeName);
  return nodeDsn({ hosts, ports, database: db.spec.database_name, user: superUser, passfile: inContainer.peersPgpass });
}

export function driverOfNode(db: Pick<DatabaseContext, 'instances'>, nodeName: string) {
  const major = db.instances.find((i) => i.nodeName === nodeName)?.postgresMajor ?? '';
  return driverFor(manifestEntry(major)?.driver ?? 'pglogical');
}

export function nodeDatabaseActivities(deps: HostDeps) {
  return {
    /**
     * Database, users (attributes, password, roles; managed users no longer listed are dropped), owner, and the
     * replication node. A joining node's node is bare: its automatic DDL objects come with the copy.
     */
    async ensureNodeDatabase({ databaseId, nodeName, joining, scripts }: { databaseId: string; nodeName: string; joining?: boolean; scripts?: boolean }): Promise<{ primary: string; droppedUsers: string[]; lines?: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const primary = await resolvePrimary(deps, db, nodeName);
      const name = db.spec.database_name;
      const users = db.spec.database_users ?? [];
      // The creation scripts (only when the plan says so: a database being created, never a node added later).
      const script = (s: ScriptName) => (scripts && !joining ? db.spec.scripts?.[s] ?? [] : []);
      const lines: string[] = [];
      const { dropped } = await withClient(primary.address, db.secrets, 'postgres', async (c) => {
        lines.push(...await runScript(c, 'post_init', nodeName, script('post_init')));
        const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!rowCount) await c.query(createDatabaseStatement(name));
        const result = await convergeUsers(c, users, [name, 'postgres'], (other) => connectInstance(primary.address, db.secrets, other));
        const owner = users.find((u) => u.db_owner);
        if (owner) await c.query(ownerStatement(name, owner.username));
        return result;
      });
      await withClient(primary.address, db.secrets, name, async (c) => {
        const driver = driverOfNode(db, nodeName);
        const node = { name: nodeName, dsn: replicationDsn(db, nodeName) };
        await (joining ? driver.join.ensureBareNode(c, node) : driver.ensureNode(c, node));
        // Tables the script makes join the replication sets (pgEdge: not in repair mode), in its transaction.
        lines.push(...await runScript(c, 'post_database_create', nodeName, script('post_database_create'), async (t) => {
          const added = await driver.addExistingTables(t);
          return added > 0 ? `post_database_create on node ${nodeName}: ${added} table${added === 1 ? '' : 's'} in the replication sets` : null;
        }));
      });
      return { primary: primary.instanceId, droppedUsers: dropped, ...(lines.length ? { lines } : {}) };
    },

    /** On the node's primary: its peers' walsenders may load the output plugin (after a promotion into a newer minor). */
    async allowOutputPlugin({ databaseId, nodeName }: NodeKey): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const primary = await resolvePrimary(deps, db, nodeName);
      await withClient(primary.address, db.secrets, 'postgres', (c) => driverOfNode(db, nodeName).join.allowOutputPlugin(c));
    },

    /** Before an update changes anything: users about to be dropped must own nothing on this node. */
    async checkUserRemoval({ databaseId, nodeName }: NodeKey): Promise<{ toDrop: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const primary = await resolvePrimary(deps, db, nodeName);
      return withClient(primary.address, db.secrets, 'postgres', async (c) => {
        const toDrop = await usersToDrop(c, db.spec.database_users ?? []);
        const owned = await ownedObjects(c, toDrop);
        if (owned.length > 0) {
          throw permanent(FailureType.refused, `cannot remove ${owned.join('; ')} on node ${nodeName}: reassign or drop them first, nothing was changed`);
        }
        return { toDrop };
      });
    },

    /** On the subscriber's primary: a subscription to the provider node (all of its instances in the DSN). */
    async ensureSubscription({ databaseId, subscriber, provider }: { databaseId: string; subscriber: string; provider: string }): Promise<{ name: string }> {
      const db = await loadDatabase(deps.store, databaseId);
      const primary = await resolvePrimary(deps, db, subscriber);
      const name = ids.subscription(subscriber, provider);
      await withClient(primary.address, db.secrets, db.spec.database_name, (c) =>
        driverOfNode(db, subscriber).ensureSubscription(c, { name, providerDsn: replicationDsn(db, provider) }));
      return { name };
    },

    /** Waits until every listed subscription on the node's primary replicates; revives one whose worker is down. */
    async waitForReplication({ databaseId, nodeName, subscriptions, restartDownAfterMs = 10_000 }: { databaseId: string; nodeName: string; subscriptions: string[]; restartDownAfterMs?: number }): Promise<void> {
      const db = await loadDatabase(deps.store, databaseId);
      const driver = driverOfNode(db, nodeName);
      const downSince = new Map<string, number>();
      await pollUntil<true>(`replication on ${nodeName}`, 3 * 60_000, async () => {
        const primary = await resolvePrimary(deps, db, nodeName);
        const states = await withClient(primary.address, db.secrets, db.spec.database_name, async (c) => {
          const subs = await driver.subscriptions(c);
          for (const s of subs) {
            // one a killed attempt left between disable and enable is enabled again
            if (s.status === 'disabled' && subscriptions.includes(s.name)) { await driver.join.resumeSubscription(c, s.name); continue; }
            if (s.status !== 'down') { downSince.delete(s.name); continue; }
            const since = downSince.get(s.name) ?? Date.now();
            downSince.set(s.name, since);
            if (Date.now() - since >= restartDownAfterMs) { await driver.restartSubscription(c, s.name); downSince.delete(s.name); }
          }
          return subs;
        });
        const pending = subscriptions.filter((n) => states.find((s) => s.name === n)?.status !== 'replicating');
        return pending.length === 0 ? true : { waiting: pending.map((n) => `${n}: ${states.find((s) => s.name === n)?.status ?? 'missing'}`).join(', ') };
      });
    },
  };
}
