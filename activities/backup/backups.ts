// pgBackRest on a node's primary: the stanza (created and checked once the primary runs) and backups. pgBackRest
// runs inside the instance's container, as postgres, with the configuration the instance was created with.
import { Context } from '@temporalio/activity';
import { nodeBackupConfig, optionFlags, pgbackrestCommand, repositoryPath } from '../../workflows/model/backup.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { mountedTypes, secretValues, specRepositories } from '../../workflows/model/backup-repository.js';
import { redactValues } from '../../workflows/model/redact.js';
import type { HostDeps } from '../deps.js';
import { execIn } from '../docker/exec.js';
import { inspectContainerOrNull } from '../docker/client.js';
import { instanceAddress } from '../addresses.js';
import { FailureType, permanent } from '../errors.js';
import { getPatroniStatus } from '../patroni/client.js';
import { loadDatabase, type NodeKey } from '../database-context.js';
import { inContainer } from '../docker/instance-files.js';
import { resolvePrimary } from '../postgres/node-database.js';

const pgbackrest = (...args: string[]) => pgbackrestCommand(inContainer.pgbackrestConfig, ...args);
/** What a task log keeps of a long output: its last lines, without the repositories' keys. */
const tail = (lines: string[], keys: string[], n = 200) => lines.filter((l) => l.trim()).slice(-n).map((l) => redactValues(l, keys));

/**
 * Makes a node's repository leaf (`$1`) postgres's, as root inside the container: refused when the leaf or its parent
 * is a symbolic link (postgres could plant one to have root chown another file), and `chown -h` never follows one.
 */
export const prepareLeafScript = [
  'set -e',
  'for p in "$(dirname "$1")" "$1"; do if [ -L "$p" ]; then echo "refusing: $p is a symbolic link" >&2; exit 3; fi; done',
  'mkdir -p "$1"',
  'if [ -L "$1" ]; then echo "refusing: $1 is a symbolic link" >&2; exit 3; fi',
  'chown -h postgres:postgres "$1"',
].join('\n');

const heartbeatEveryMs = 5000;
/** The annotation naming the task that took a backup. */
export const taskAnnotation = 'pgcp-task-id';

/** Pure: whether an exec's process is a pgBackRest `command` run (`pgbackrest --config=… --stanza=… backup …`). */
export function isPgbackrestRun(p: { entrypoint: string; arguments: string[] }, command: string): boolean {
  return p.entrypoint === 'pgbackrest' && p.arguments.filter((a) => !a.startsWith('-'))[0] === command;
}

export interface BackupRequest {
  databaseId: string; nodeName: string; instanceId: string; type: 'full' | 'diff' | 'incr'; annotations?: Record<string, string>; options?: Record<string, string>;
  /** The task moved to this primary after its earlier one stopped leading: an earlier run may have completed the backup. */
  afterMove?: boolean;
}

export function backupActivities(deps: HostDeps) {
  /**
   * keys: the values to keep out of heartbeats (the Temporal UI shows them), errors and returned lines. With
   * `heartbeat`, the activity heartbeats every 5 s with pgBackRest's last line, also while it prints nothing (a
   * backup's copy phase is silent at the info level): a long run is never taken for a dead one and retried beside itself.
   */
  /**
   * The instance still leads its node, at each attempt: a paused one fails the attempt (retried: it may thaw, or be
   * fenced); one that exited, or that Patroni runs as a replica now, was failed over: the workflow backs up the new
   * primary instead (PrimaryChanged).
   */
  async function stillPrimary(r: BackupRequest): Promise<void> {
    const info = await inspectContainerOrNull(deps.docker, r.instanceId);
    if (info?.State.Paused) throw new Error(`${r.instanceId} is paused: its backup waits`);
    const ip = info?.State.Running ? await instanceAddress(deps, r.databaseId, r.instanceId) : null;
    const status = ip ? await getPatroniStatus(ip) : null;
    if (!info?.State.Running || (status && status.role !== 'primary')) {
      throw permanent(FailureType.primaryChanged, `${r.instanceId} no longer leads node ${r.nodeName} (${info?.State.Running ? `Patroni: ${status?.role}` : `container ${info?.State.Status ?? 'gone'}`})`);
    }
  }

  async function run(container: string, cmd: string[], what: string, keys: string[], o: { heartbeat?: boolean; user?: string } = {}) {
    const ctx = o.heartbeat ? Context.current() : null;
    let last = `${what}: running`;
    const timer = ctx ? setInterval(() => ctx.heartbeat(last), heartbeatEveryMs) : null;
    try {
      const r = await execIn(deps.docker, container, cmd, { user: o.user, onLine: (l) => { if (l.trim()) last = redactValues(l, keys); } });
      if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${tail(r.lines, keys, 5).join(' | ')}`);
      return r.lines;
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  /** A pgBackRest `command` an earlier attempt of this step started in the container and that still runs: its exec id. */
  async function runningPgbackrest(container: string, command: string): Promise<string | null> {
    const info = await deps.docker.getContainer(container).inspect();
    for (const id of info.ExecIDs ?? []) {
      const e = await deps.docker.getExec(id).inspect().catch(() => null);
      if (e?.Running && isPgbackrestRun(e.ProcessConfig, command)) return id;
    }
    return null;
  }

  /** Waits for a running exec to end, heartbeating; its exit code. */
  async function awaitExec(id: string, what: string): Promise<number> {
    const ctx = Context.current();
    for (;;) {
      const e = await deps.docker.getExec(id).inspect();
      if (!e.Running) return e.ExitCode ?? -1;
      ctx.heartbeat(`${what}: waiting for the run in progress`);
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), ctx.cancelled]);
    }
  }

  /** Whether the repositories hold a backup this task took (annotated with its task id): a retry after a lost answer. */
  async function backupOfTask(container: string, taskId: string, keys: string[]): Promise<string | null> {
    const lines = await run(container, pgbackrest('info', '--output=json'), 'pgbackrest info', keys);
    const stanzas = JSON.parse(lines.join('\n')) as { backup?: { label?: string; annotation?: Record<string, string> }[] }[];
    for (const st of stanzas) for (const b of st.backup ?? []) if (b.annotation?.[taskAnnotation] === taskId) return b.label ?? 'unknown';
    return null;
  }
  const keysOf = (db: { spec: DatabaseSpec; secrets: { repositoryCipherPass?: string } }) =>
    [...secretValues(specRepositories(db.spec)), ...(db.secrets.repositoryCipherPass ? [db.secrets.repositoryCipherPass] : [])];

  return {
    /** The node's repositories exist and belong to postgres; the stanza is created (a no-op when it is) and checked. */
    async ensureBackupStanza({ databaseId, nodeName }: NodeKey): Promise<{ lines: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const config = nodeBackupConfig(db.spec, nodeName);
      if (!config) return { lines: [] };
      const primary = await resolvePrimary(deps, db, nodeName);
      const keys = keysOf(db);
      for (const repo of config.repositories.filter((r) => mountedTypes.includes(r.type))) {
        const dir = repositoryPath(repo, databaseId, nodeName);
        // as root, so never through a link planted by postgres (who owns the leaves): refused, and chown -h at worst
        // changes a link itself
        await run(primary.instanceId, ['sh', '-c', prepareLeafScript, 'sh', dir], `preparing repository ${dir}`, keys, { user: 'root' });
      }
      const created = await run(primary.instanceId, pgbackrest('stanza-create'), 'pgbackrest stanza-create', keys, { heartbeat: true })
        .catch((err: unknown) => {
          // [028]: the repository holds the stanza of an earlier cluster at this path (a node removed, then added again
          // under its name; a database deleted, then created again under its id): a new system id. stanza-upgrade
          // records it beside the old history, whose backups stay restorable, as after a major upgrade.
          if (!/\[028\]/.test(err instanceof Error ? err.message : String(err))) throw err;
          return run(primary.instanceId, pgbackrest('stanza-upgrade'), 'pgbackrest stanza-upgrade', keys, { heartbeat: true });
        });
      const checked = await run(primary.instanceId, pgbackrest('check'), 'pgbackrest check', keys, { heartbeat: true });
      return { lines: tail([...created, ...checked], keys, 20) };
    },

    /**
     * A backup on the instance (the node's primary), its output returned for the task log. Single-flight: a retry
     * (the worker died, a heartbeat was missed, the answer was lost) joins the backup an earlier attempt still runs,
     * and one whose backup already completed (annotated with the task id) does not take another.
     */
    async runBackup(r: BackupRequest): Promise<{ lines: string[] }> {
      await stillPrimary(r);
      const keys = keysOf(await loadDatabase(deps.store, r.databaseId));
      const what = `pgbackrest backup on ${r.instanceId}`;
      const info = Context.current().info;
      const taskId = info.workflowExecution?.workflowId;
      if (info.attempt > 1 || r.afterMove) {
        const running = await runningPgbackrest(r.instanceId, 'backup');
        if (running) {
          const code = await awaitExec(running, what);
          if (code !== 0) throw new Error(`${what} (started by an earlier attempt) failed (exit ${code})`);
          return { lines: [`joined the backup an earlier attempt started: it completed`] };
        }
        const done = taskId ? await backupOfTask(r.instanceId, taskId, keys) : null;
        if (done) return { lines: [`backup ${done} of this task completed in an earlier attempt`] };
      }
      const annotations = Object.entries({ ...(r.annotations ?? {}), ...(taskId ? { [taskAnnotation]: taskId } : {}) }).map(([k, v]) => `--annotation=${k}=${v}`);
      const lines = await run(r.instanceId, pgbackrest('backup', `--type=${r.type}`, ...annotations, ...optionFlags(r.options)), what, keys, { heartbeat: true });
      return { lines: tail(lines, keys) };
    },
  };
}
