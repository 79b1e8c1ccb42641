// In-place restore of one node's primary with pgBackRest, and the node's replication catalog made new afterwards.
// The data is restored by a one-off container on the instance's volume while the instance is stopped; then Patroni,
// finding no cluster in the DCS (cleared by the workflow) and an empty data directory, "bootstraps" by moving the
// restored data in and lets Postgres recover to the target and promote. A marker file in the volume, named after
// the task, makes a retried or resumed restore skip what it already did.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { nodeBackupConfig, pgbackrestConfigPath, pgbackrestRestoreConfig, restoreConfigPath, restoreFlags, stanza } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { redactValues } from '../../workflows/model/redact.js';
import { labels, removeContainer, startContainer } from '../docker/client.js';
import { execIn } from '../docker/exec.js';
import { deletePrefix, patroniPrefix } from '../etcd.js';
import type { HostDeps } from '../deps.js';
import { configPath, writePatroniConfig } from '../docker/instances.js';
import { getRestoreSecrets } from '../../store/databases.js';
import { repositoryDockerMounts, secretValues, specRepositories, type HostMount } from '../../workflows/model/backup-repository.js';
import { findInstance, loadDatabase, pollUntil } from '../instance-context.js';
import { withClient } from '../postgres/connect.js';
import { driverOfNode, replicationDsn, resolvePrimary } from '../postgres/node-database.js';
import { getPatroniStatus } from '../patroni/client.js';
import { instanceAddress } from '../addresses.js';

const volumeRoot = '/var/lib/postgresql/data';
const recoverySettings = ['restore_command', 'recovery_target', 'recovery_target_lsn', 'recovery_target_name', 'recovery_target_time',
  'recovery_target_xid', 'recovery_target_inclusive', 'recovery_target_action', 'recovery_target_timeline'];
const restored = `${volumeRoot}/pgdata-restore`;
/** Where the one-off container sees the restore source's configuration. */
const mountedSource = '/run/pgcp/restore-source.conf';

/** A container's log without a TTY: frames of an 8-byte header (stream, 3 zero bytes, length) and the payload. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length;) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out;
}

/**
 * restore: the source (omitted: the node's own restore_config in the spec, so no repository setting travels through
 * the workflow history). joinAt: a node added from a backup, recovered up to just before this LSN of the source.
 */
export interface RestoreRequest { databaseId: string; nodeName: string; instanceId: string; restore?: RestoreConfigSpec; joinAt?: string; taskId: string }

/**
 * A joining node's recovery ends in the one-off container, with the replication layer not loaded and only a local
 * socket: the backup's subscriptions (the source's) are turned off before any of their workers could start and
 * read the source's slots on its peers. Patroni then starts from the promoted data.
 */
function finishRecoveryQuietly(database: string, sql: string): string[] {
  const opts = `-c shared_preload_libraries= -c listen_addresses= -c unix_socket_directories=/tmp -c hba_file=/tmp/pgcp-hba -c archive_mode=off -c hot_standby=on`;
  return [
    'bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)',
    "printf 'local all all trust\\n' > /tmp/pgcp-hba",
    `"$bin/pg_ctl" -D ${volumeRoot}/pgdata -W -l /tmp/pgcp-recovery.log -o '${opts}' start`,
    'sleep 2',
    `until [ "$(psql -h /tmp -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do`,
    `  if ! "$bin/pg_ctl" -D ${volumeRoot}/pgdata status >/dev/null; then cat /tmp/pgcp-recovery.log; exit 1; fi`,
    '  sleep 1',
    'done',
    `psql -h /tmp -U postgres -d '${database.replace(/'/g, `'\\''`)}' -v ON_ERROR_STOP=1 -Atc '${sql}'`,
    `"$bin/pg_ctl" -D ${volumeRoot}/pgdata -w -t 600 -m fast stop`,
    'tail -3 /tmp/pgcp-recovery.log',
  ];
}

export function restoreActivities(deps: HostDeps) {
  const { docker } = deps;

  /**
   * A one-off container on the instance's volume (and the repository's host paths), running `script` as postgres,
   * on the database's network with the instances' host entries (an object store is reached as they reach it).
   */
  async function oneOff(databaseId: string, instanceId: string, image: string, binds: string[], script: string, mounts: HostMount[] = []): Promise<{ code: number; lines: string[] }> {
    const name = `${instanceId}-restore`;
    await removeContainer(docker, name);
    const c = await docker.createContainer({
      name, Image: image, User: 'postgres', Entrypoint: ['sh', '-c', script],
      Labels: { [labels.managed]: 'true', [labels.purpose]: 'restore', [labels.instanceId]: instanceId },
      HostConfig: {
        Binds: [`${ids.volume(instanceId)}:${volumeRoot}`, ...binds], Mounts: mounts, NetworkMode: ids.network(databaseId),
        ...(deps.containerExtraHosts.length ? { ExtraHosts: deps.containerExtraHosts } : {}),
      },
    });
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 5000);
    try {
      await c.start();
      const { StatusCode } = await c.wait();
      const lines = demux(await c.logs({ stdout: true, stderr: true })).split('\n').map((l) => l.trimEnd()).filter(Boolean);
      return { code: StatusCode, lines };
    } finally {
      clearInterval(beat);
      await removeContainer(docker, name);
    }
  }

  return {
    /** Restores the node's primary in place; returns pgBackRest's output for the task log. */
    async restoreInstance(r: RestoreRequest): Promise<{ lines: string[] }> {
      const db = await loadDatabase(deps.store, r.databaseId);
      const plan = findInstance(db, r.instanceId);
      const info = await docker.getContainer(r.instanceId).inspect();
      const marker = `${volumeRoot}/pgcp-restored-${r.taskId}`;
      // An in-place restore's repository keys come from the store, never through the workflow's input.
      const source = r.restore
        ? { ...r.restore, repository: { ...r.restore.repository, ...(await getRestoreSecrets(deps.store, r.databaseId)) } }
        : db.spec.nodes.find((n) => n.name === r.nodeName)?.restore_config;
      if (!source) throw new Error(`node ${r.nodeName} has no restore_config`);
      const keys = secretValues([source.repository, ...specRepositories(db.spec)]);
      const options = r.joinAt
        ? { ...source.restore_options, type: 'lsn', target: r.joinAt, 'target-exclusive': '' }
        : source.restore_options;
      // The source's configuration (with its keys): a host file in the instance's 0700 directory while the one-off
      // container copies it into the volume (for the recovery's restore_command, removed once the node leads).
      const sourceFile = path.join(path.dirname(configPath(deps, r.instanceId)), 'pgbackrest-restore-source.conf');
      const mounts = repositoryDockerMounts([source.repository]);
      let lines: string[] = [];
      const done = await oneOff(r.databaseId, r.instanceId, info.Config.Image, [], `test -f ${marker}`);
      if (done.code !== 0) {
        if (info.State.Running && nodeBackupConfig(db.spec, r.nodeName) && !r.joinAt) {
          // the WAL written up to now reaches the repository (check switches segments and waits for their archiving),
          // so a target just before this moment can be reached
          const check = await execIn(docker, r.instanceId, ['pgbackrest', `--config=${pgbackrestConfigPath}`, `--stanza=${stanza}`, 'check']);
          lines.push(...check.lines.filter((l) => l.trim()).slice(-3).map((l) => redactValues(l, keys)));
        }
        if (info.State.Running) await docker.getContainer(r.instanceId).stop({ t: 60 });
        // The node's DCS goes once its last member is down: Patroni then bootstraps from the restored data.
        await deletePrefix(`http://${deps.etcdHostsForContainers[0]}`, patroniPrefix(ids.patroniScope(r.databaseId, r.nodeName)));
        const flags = restoreFlags(options).map((f) => `'${f.replace(/'/g, `'\\''`)}'`).join(' ');
        const script = [
          'set -e',
          `cp ${mountedSource} ${restoreConfigPath} && chmod 600 ${restoreConfigPath}`,
          // a restore killed after the move is redone from the moved data; a stale pid file would stop Postgres
          `if [ -d ${restored} ] && [ ! -d ${volumeRoot}/pgdata ]; then mv ${restored} ${volumeRoot}/pgdata; fi`,
          `rm -f ${volumeRoot}/pgdata/postmaster.pid`,
          `pgbackrest --config=${restoreConfigPath} --stanza=${stanza} restore ${flags}`,
          ...(r.joinAt ? finishRecoveryQuietly(db.spec.database_name, driverOfNode(db, r.nodeName).restoredSubscriptionsOff) : []),
          `mv ${volumeRoot}/pgdata ${restored}`,
        ].join('\n');
        await writeFile(sourceFile, pgbackrestRestoreConfig(source), { mode: 0o644 });
        let run: { code: number; lines: string[] };
        try {
          run = await oneOff(r.databaseId, r.instanceId, info.Config.Image, [`${sourceFile}:${mountedSource}:ro`], script, mounts);
        } finally {
          await rm(sourceFile, { force: true }); // the one-off copied it into the volume, or failed
        }
        lines = [...lines, ...run.lines.map((l) => redactValues(l, keys))].slice(-200);
        if (run.code !== 0) throw new Error(`pgbackrest restore failed (exit ${run.code}): ${lines.slice(-5).join(' | ')}`);
        // Patroni bootstraps the node from the restored data, once
        await writePatroniConfig(deps, db, plan, { command: `mv ${restored} ${volumeRoot}/pgdata` });
        await startContainer(docker.getContainer(r.instanceId));
      } else if (!info.State.Running) {
        await startContainer(docker.getContainer(r.instanceId));
      }
      await pollUntil(`${r.instanceId} to finish recovery and lead node ${r.nodeName}`, 30 * 60_000, async () => {
        const ip = await instanceAddress(deps, r.databaseId, r.instanceId);
        const s = ip ? await getPatroniStatus(ip) : null;
        return s?.role === 'primary' && s.state === 'running' ? true : { waiting: `Patroni: ${s ? `${s.role}, ${s.state}` : 'not answering'}` };
      });
      await writePatroniConfig(deps, db, plan); // later bootstraps (none expected) would use initdb again
      const touch = await execIn(docker, r.instanceId, ['sh', '-c', `touch ${marker} && rm -f ${restoreConfigPath}`]);
      if (touch.exitCode !== 0) throw new Error(`cannot mark the restore of ${r.instanceId} done`);
      return { lines };
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
