// The steps of an in-place restore of one instance (restore.ts orders them), each about one thing: where the
// source comes from, the one-off container on the instance's volume, stopping the node for it, and waiting for the
// restored instance to lead. Each can be repeated: a retried restore finds its marker and skips to the end.
import type Docker from 'dockerode';
import { CancelledFailure } from '@temporalio/activity';
import type { DatabaseSpec, RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { repositoryDirs, withSecrets, type HostMount } from '../../workflows/model/backup-repository.js';
import { instanceMounts, ownRepositoryDirs } from '../../workflows/model/orchestrator-opts.js';
import { copyCaFiles, prepareRepositoryDirs } from './repository-host.js';
import { pgbackrestCommand, pgbackrestRestoreConfig } from '../../workflows/model/backup.js';
import { ids } from '../../workflows/model/ids.js';
import { redactValues } from '../../workflows/model/redact.js';
import { getRestoreSecrets } from '../../store/databases.js';
import { getInstance, getInstanceRestoreSource, setInstanceRestoreSource } from '../../store/instances.js';
import type { DatabaseContext } from '../database-context.js';
import type { HostDeps } from '../deps.js';
import { inspectContainerOrNull, labels, removeContainer } from '../docker/client.js';
import { databaseLabels } from '../docker/instance-spec.js';
import { activityNamespace } from '../activity-namespace.js';
import { execIn } from '../docker/exec.js';
import { inContainer, instanceHostFiles } from '../docker/instance-files.js';
import { runOneOffWithSecrets, startInstance } from '../docker/instance-secrets.js';
import { instanceAddress } from '../addresses.js';
import { runOneOff } from '../docker/one-off.js';
import { FailureType, permanent } from '../errors.js';
import { deletePrefix } from '../etcd.js';
import { pollUntil, whileBeating } from '../heartbeats.js';
import { getPatroniStatus } from '../patroni/client.js';

export interface RestoreTarget { databaseId: string; nodeName: string; instanceId: string; taskId: string }

/**
 * The source to restore: the request's (its repository keys from the store, never through the workflow's input),
 * else the node's own restore_config in the spec.
 */
export async function restoreSource(deps: HostDeps, db: DatabaseContext, nodeName: string, requested?: RestoreConfigSpec): Promise<RestoreConfigSpec> {
  const source = requested
    ? { ...requested, repository: withSecrets(requested.repository, await getRestoreSecrets(deps.store, db.databaseId)) }
    : db.spec.nodes.find((n) => n.name === nodeName)?.restore_config;
  if (!source) throw permanent(FailureType.notFound, `node ${nodeName} has no restore_config`);
  return source;
}

/**
 * A one-off container on the instance's volume (and the repository's host paths), running `script` as postgres,
 * on the database's network with the instances' host entries (an object store is reached as they reach it);
 * `secrets` (path inside → content): delivered to its tmpfs before the script runs. `runKey`: single-flight (a retry
 * of the step joins the container an earlier attempt of the task started, one-off.ts).
 */
function onVolume(deps: HostDeps, t: RestoreTarget, name: string, image: string, script: string, o: { mounts?: HostMount[]; secrets?: Record<string, string>; runKey?: string } = {}) {
  const spec = {
    name, image, script, user: 'postgres', runKey: o.runKey,
    labels: { ...databaseLabels(t.databaseId, activityNamespace()), [labels.purpose]: 'restore', [labels.instanceId]: t.instanceId },
    hostConfig: {
      Binds: [`${ids.volume(t.instanceId)}:${inContainer.volume}`], Mounts: o.mounts ?? [], NetworkMode: ids.network(t.databaseId),
      ...(deps.containerExtraHosts.length ? { ExtraHosts: deps.containerExtraHosts } : {}),
    },
  };
  return o.secrets ? runOneOffWithSecrets(deps.docker, spec, o.secrets) : runOneOff(deps.docker, spec);
}

/**
 * Whether this task's restore run already ended well (its data staged for the instance's start) or the whole restore
 * is done (its marker): a retry then only starts the instance and waits, and the run's ended container (an attempt
 * that gave up left it) goes. Never touches a restore that runs: the run's marker is its last act.
 */
export async function restoreMarked(deps: HostDeps, t: RestoreTarget, image: string): Promise<boolean> {
  const check = `test -f ${inContainer.restoreMarker(t.taskId)} || test -f ${inContainer.restoreStaged(t.taskId)}`;
  const marked = (await onVolume(deps, t, ids.restoreMarkerContainer(t.instanceId), image, check)).code === 0;
  if (marked) await removeContainer(deps.docker, ids.restoreContainer(t.instanceId));
  return marked;
}

/**
 * The WAL written up to now reaches the repository (pgBackRest's check switches segments and waits for their
 * archiving), so a target just before this moment can be reached. Returns its last lines.
 */
export async function archiveRecentWal(docker: Docker, instanceId: string, keys: string[]): Promise<string[]> {
  // heartbeating meanwhile: the check waits for WAL archiving and prints nothing until then
  const check = await whileBeating(execIn(docker, instanceId, pgbackrestCommand(inContainer.pgbackrestConfig, 'check')));
  return check.lines.filter((l) => l.trim()).slice(-3).map((l) => redactValues(l, keys));
}

/** How long a restore waits for an exited primary it started again (to archive its WAL) to lead. */
const archiveStartWaitMs = 90_000;

/**
 * A primary whose container was killed (or crashed) still holds in its pg_wal what it wrote since its last archived
 * segment: commits it acknowledged, which a restore to the latest point would lose. Its container is started again
 * and waited for as the node's primary (at most 90 s; its replicas are already gone) so that archiveRecentWal can push
 * that WAL. Never one the user stopped, one that exited cleanly (a `docker stop`, as an earlier attempt of this
 * restore does), nor once an earlier attempt reached the volume (its one-off container, or the restore source it
 * recorded first).
 * Returns what happened, for the task log; null when it was not for this step to start it.
 */
export async function startToArchive(deps: HostDeps, t: RestoreTarget, db: DatabaseContext): Promise<{ leads: boolean; line: string } | null> {
  const info = await inspectContainerOrNull(deps.docker, t.instanceId);
  if (!info || info.State.Running || info.State.ExitCode === 0) return null;
  if ((await getInstance(deps.store, t.instanceId))?.stopped) return null;
  // an attempt that reached the volume recorded its source first (cleared only once the restore is done): pgBackRest
  // may have rewritten part of it, even when its one-off container is gone
  if (await inspectContainerOrNull(deps.docker, ids.restoreContainer(t.instanceId))) return null;
  if (await getInstanceRestoreSource(deps.store, t.instanceId)) return null;
  const was = `${t.instanceId} had exited (exit code ${info.State.ExitCode})`;
  await startInstance(deps, t.databaseId, t.instanceId, db);
  const leads = await pollUntil(`${t.instanceId} to lead again`, archiveStartWaitMs, async () => {
    const ip = await instanceAddress(deps, t.databaseId, t.instanceId);
    const s = ip ? await getPatroniStatus(ip) : null;
    return s?.role === 'primary' && s.state === 'running' ? true : { waiting: `Patroni: ${s ? `${s.role}, ${s.state}` : 'not answering'}` };
  }).catch((err: unknown) => {
    if (err instanceof CancelledFailure) throw err;
    return false;
  });
  return {
    leads,
    line: leads
      ? `${was}: started again to archive the WAL it wrote since its last archived segment`
      : `${was} and did not lead again within ${archiveStartWaitMs / 1000} s: what it wrote since its last archived segment is not restored`,
  };
}

/** The instance stopped, and the node's keys in the DCS gone once its last member is down: Patroni then bootstraps. */
export async function stopNodeForRestore(deps: HostDeps, t: RestoreTarget, running: boolean): Promise<void> {
  if (running) await deps.docker.getContainer(t.instanceId).stop({ t: 60 });
  await deletePrefix(deps.etcd, ids.patroniKeys(t.databaseId, t.nodeName));
}

/**
 * Runs the restore script on the volume, with the source's repository directory (checked on this host without
 * following links) and CA copies mounted, and the source's configuration (with its keys and passphrase) on the
 * one-off container's tmpfs. The source is kept sealed in the store until the restored instance leads: each start
 * of the instance's container gets the configuration its recovery's restore_command reads (instance-config.ts).
 */
export async function restoreVolume(deps: HostDeps, t: RestoreTarget, image: string, source: RestoreConfigSpec, script: string, cipherPass: string | null, spec: DatabaseSpec): Promise<{ code: number; lines: string[] }> {
  const files = instanceHostFiles(deps.dataDir, t.instanceId);
  const dirs = repositoryDirs(t.databaseId, [], source);
  await prepareRepositoryDirs(deps, ownRepositoryDirs(spec, t.nodeName, dirs));
  const ca = await copyCaFiles(deps, [source.repository], files.caDir);
  await setInstanceRestoreSource(deps.store, t.instanceId, source);
  return onVolume(deps, t, ids.restoreContainer(t.instanceId), image, script, {
    mounts: instanceMounts(spec, t.nodeName, dirs, ca ? files.caDir : null),
    secrets: { [inContainer.restoreConfig]: pgbackrestRestoreConfig(source, cipherPass) },
    runKey: t.taskId,
  });
}

/** Until the restored instance has finished its recovery and leads its node. */
export async function waitToLead(deps: HostDeps, t: RestoreTarget): Promise<void> {
  await pollUntil(`${t.instanceId} to finish recovery and lead node ${t.nodeName}`, 30 * 60_000, async () => {
    const ip = await instanceAddress(deps, t.databaseId, t.instanceId);
    const s = ip ? await getPatroniStatus(ip) : null;
    return s?.role === 'primary' && s.state === 'running' ? true : { waiting: `Patroni: ${s ? `${s.role}, ${s.state}` : 'not answering'}` };
  });
}

/**
 * The marker of this task's restore; the source forgotten, so the next delivery removes its configuration from the
 * instance's tmpfs (and an earlier version's copy in the volume goes).
 */
export async function markRestored(deps: HostDeps, t: RestoreTarget): Promise<void> {
  const touch = await execIn(deps.docker, t.instanceId, ['sh', '-c', `touch ${inContainer.restoreMarker(t.taskId)} && rm -f ${inContainer.restoreStaged(t.taskId)} ${inContainer.legacyRestoreConfig}`]);
  if (touch.exitCode !== 0) throw new Error(`cannot mark the restore of ${t.instanceId} done`);
  await setInstanceRestoreSource(deps.store, t.instanceId, null);
}

/**
 * `pgbackrest info --output=json` of a restore source, in a one-off container of the instance's image beside the
 * instance (its network, host entries and the repository's mounts), touching nothing of the instance: what a
 * restore checks before it stops anything. Its configuration (with keys) lives on the one-off container's tmpfs.
 */
export async function restoreSourceInfo(deps: HostDeps, t: Omit<RestoreTarget, 'taskId'>, image: string, source: RestoreConfigSpec, cipherPass: string | null, spec: DatabaseSpec): Promise<{ code: number; lines: string[] }> {
  const files = instanceHostFiles(deps.dataDir, t.instanceId);
  const dirs = repositoryDirs(t.databaseId, [], source);
  await prepareRepositoryDirs(deps, ownRepositoryDirs(spec, t.nodeName, dirs));
  const ca = await copyCaFiles(deps, [source.repository], files.caDir);
  return runOneOffWithSecrets(deps.docker, {
    name: ids.restoreCheckContainer(t.instanceId), image, user: 'postgres',
    script: pgbackrestCommand(inContainer.restoreSource, 'info', '--output=json', '--log-level-console=off', '--log-level-stderr=error').join(' '),
    labels: { ...databaseLabels(t.databaseId, activityNamespace()), [labels.purpose]: 'restore-check', [labels.instanceId]: t.instanceId },
    hostConfig: {
      Mounts: instanceMounts(spec, t.nodeName, dirs, ca ? files.caDir : null), NetworkMode: ids.network(t.databaseId),
      ...(deps.containerExtraHosts.length ? { ExtraHosts: deps.containerExtraHosts } : {}),
    },
  }, { [inContainer.restoreSource]: pgbackrestRestoreConfig(source, cipherPass) });
}
