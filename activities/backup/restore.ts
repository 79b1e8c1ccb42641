// In-place restore of one node's primary with pgBackRest, and the node's replication catalog made new afterwards.
// The data is restored by a one-off container on the instance's volume while the instance is stopped; then Patroni,
// finding no cluster in the DCS (cleared here) and an empty data directory, "bootstraps" by moving the restored data
// in and lets Postgres recover to the target and promote. Retries never restore twice: a retry while the one-off
// container runs, or after it ended, joins it or reads its result (keyed by the task: one-off.ts); once its run has
// ended well (a marker it leaves in the volume, named after the task) or the whole restore is done (another), a
// retried or resumed restore only starts the instance and waits. The steps: restore-steps.ts; the script:
// restore-script.ts.
import type { RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { secretValues, specRepositories } from '../../workflows/model/backup-repository.js';
import { nodeBackupConfig } from '../../workflows/model/backup.js';
import { redactValues } from '../../workflows/model/redact.js';
import { findInstance, loadDatabase } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { sourceCipherPass } from '../docker/instance-config.js';
import { inContainer } from '../docker/instance-files.js';
import { deliverInstanceSecrets, startInstance } from '../docker/instance-secrets.js';
import { withClient } from '../postgres/connect.js';
import { driverOfNode, replicationDsn, resolvePrimary } from '../postgres/node-database.js';
import { recoverySettings, restoreOptions, restoreScript } from './restore-script.js';
import { archiveRecentWal, markRestored, startToArchive, restoreMarked, restoreSource, restoreSourceInfo, restoreVolume, stopNodeForRestore, waitToLead } from './restore-steps.js';
import { restoreSourceProblem } from './restore-check.js';
import { FailureType, permanent } from '../errors.js';

/**
 * restore: the source (omitted: the node's own restore_config in the spec, so no repository setting travels through
 * the workflow history). joinAt: a node added from a backup, recovered up to just before this LSN of the source.
 */
export interface RestoreRequest { databaseId: string; nodeName: string; instanceId: string; restore?: RestoreConfigSpec; joinAt?: string; taskId: string }

export function restoreActivities(deps: HostDeps) {
  const { docker } = deps;

  return {
    /** Restores the node's primary in place; returns pgBackRest's output for the task log. */
    async restoreInstance(r: RestoreRequest): Promise<{ lines: string[] }> {
      const db = await loadDatabase(deps.store, r.databaseId);
      findInstance(db, r.instanceId); // in the spec
      const info = await docker.getContainer(r.instanceId).inspect();
      const source = await restoreSource(deps, db, r.nodeName, r.restore);
      const cipherPass = await sourceCipherPass(deps, db, source.source_database_id);
      const keys = [...secretValues([source.repository, ...specRepositories(db.spec)]), ...[cipherPass, db.secrets.repositoryCipherPass].filter((k): k is string => !!k)];
      let lines: string[] = [];
      if (!(await restoreMarked(deps, r, info.Config.Image))) {
        // what the primary wrote reaches its repository first: a restore to the latest point then restores it too
        let running = info.State.Running;
        if (nodeBackupConfig(db.spec, r.nodeName) && !r.joinAt) {
          // only a restore to the latest point of the node's own repository can use what the dead primary wrote
          const ownLatest = !source.restore_options?.type && source.source_database_id === r.databaseId && source.source_node_name === r.nodeName;
          const started = running || !ownLatest ? null : await startToArchive(deps, r, db);
          if (started) lines.push(started.line);
          running ||= started?.leads ?? false;
          if (running) lines.push(...(await archiveRecentWal(docker, r.instanceId, keys)));
        }
        await stopNodeForRestore(deps, r, running || (await docker.getContainer(r.instanceId).inspect()).State.Running);
        const join = r.joinAt ? { database: db.spec.database_name, subscriptionsOff: driverOfNode(db, r.nodeName).restoredSubscriptionsOff } : undefined;
        const run = await restoreVolume(deps, r, info.Config.Image, source, restoreScript(restoreOptions(source, r.joinAt), join, inContainer.restoreStaged(r.taskId)), cipherPass, db.spec);
        lines = [...lines, ...run.lines.map((l) => redactValues(l, keys))].slice(-200);
        if (run.code !== 0) throw new Error(`pgbackrest restore failed (exit ${run.code}): ${lines.slice(-5).join(' | ')}`);
        // Patroni bootstraps from the restored data, once: the delivery sees it in the volume
        await startInstance(deps, r.databaseId, r.instanceId, db);
      } else if (!info.State.Running) {
        await startInstance(deps, r.databaseId, r.instanceId, db);
      }
      await waitToLead(deps, r);
      await markRestored(deps, r);
      // the restored data moved in: later bootstraps (none expected) would use initdb again; the restore's
      // configuration (its keys) leaves the instance's tmpfs
      await deliverInstanceSecrets(deps, r.databaseId, r.instanceId, { db });
      return { lines };
    },

    /**
     * Before a restore stops anything: its source answers (repository reachable, stanza there), holds a backup, the
     * requested set and one that ends before a time target. Run on a host of the node, beside one of its instances.
     */
    async checkRestoreSource({ databaseId, nodeName, restore }: { databaseId: string; nodeName: string; restore: RestoreConfigSpec }): Promise<{ lines: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const instance = db.instances.find((i) => i.nodeName === nodeName && i.hostId === deps.hostId);
      if (!instance) throw permanent(FailureType.notFound, `node ${nodeName} has no instance on ${deps.hostId}`);
      const info = await docker.getContainer(instance.instanceId).inspect();
      const source = await restoreSource(deps, db, nodeName, restore);
      const cipherPass = await sourceCipherPass(deps, db, source.source_database_id);
      const keys = [...secretValues([source.repository, ...specRepositories(db.spec)]), ...[cipherPass].filter((k): k is string => !!k)];
      const where = `restore source ${source.source_database_id}/${source.source_node_name} for node ${nodeName}`;
      const run = await restoreSourceInfo(deps, { databaseId, nodeName, instanceId: instance.instanceId }, info.Config.Image, source, cipherPass, db.spec);
      const output = run.lines.map((l) => redactValues(l, keys));
      if (run.code !== 0) throw permanent(FailureType.misconfigured, `${where}: pgBackRest cannot read the repository (exit ${run.code}): ${output.slice(-3).join(' | ')}; nothing was stopped`);
      const problem = restoreSourceProblem(output.filter((l) => l.startsWith('[')).pop() ?? '', source.restore_options, where);
      if (problem) throw permanent(FailureType.invalidSpec, `${problem}; nothing was stopped`);
      return { lines: [`${where}: the repository answers and holds what the restore needs`] };
    },

    /**
     * The restored primary's database under the spec's name, and its replication catalog made new: the backup's
     * subscriptions and positions dropped, the node created again, its tables back in the replication sets. The
     * workflow then subscribes it to its peers and them to it, from now on: the node keeps what it was restored to.
     */
    async resetRestoredNode({ databaseId, nodeName, sourceDatabaseName }: { databaseId: string; nodeName: string; sourceDatabaseName: string }): Promise<{ tables: number }> {
      const db = await loadDatabase(deps.store, databaseId);
      const primary = await resolvePrimary(deps, db, nodeName);
      const name = db.spec.database_name;
      await withClient(primary.address, db.secrets, 'postgres', async (c) => {
        // pgBackRest's recovery settings (postgresql.auto.conf) would reach the replicas cloned from this primary
        for (const k of recoverySettings) await c.query(`ALTER SYSTEM RESET ${k}`);
        await c.query('SELECT pg_reload_conf()');
        const has = async (n: string) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [n])).rowCount ?? 0) > 0;
        if (sourceDatabaseName !== name && (await has(sourceDatabaseName)) && !(await has(name))) {
          await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [sourceDatabaseName]);
          await c.query(`ALTER DATABASE ${c.escapeIdentifier(sourceDatabaseName)} RENAME TO ${c.escapeIdentifier(name)}`);
        }
      });
      const driver = driverOfNode(db, nodeName);
      await withClient(primary.address, db.secrets, name, (c) => driver.resetAfterRestore(c));
      // a new session: the old one's cached plans still name the dropped extension's tables
      return withClient(primary.address, db.secrets, name, async (c) => {
        await driver.ensureNode(c, { name: nodeName, dsn: replicationDsn(db, nodeName) });
        return { tables: await driver.addExistingTables(c) };
      });
    },
  };
}
