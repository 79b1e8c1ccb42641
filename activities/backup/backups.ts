// pgBackRest on a node's primary: the stanza (created and checked once the primary runs) and backups. pgBackRest
// runs inside the instance's container, as postgres, with the configuration the instance was created with.
import { Context } from '@temporalio/activity';
import { nodeBackupConfig, optionFlags, pgbackrestCommand, repositoryPath } from '../../workflows/model/backup.js';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { mountedTypes, secretValues, specRepositories } from '../../workflows/model/backup-repository.js';
import { redactValues } from '../../workflows/model/redact.js';
import type { HostDeps } from '../deps.js';
import { execIn } from '../docker/exec.js';
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

export interface BackupRequest { databaseId: string; nodeName: string; instanceId: string; type: 'full' | 'diff' | 'incr'; annotations?: Record<string, string>; options?: Record<string, string> }

export function backupActivities(deps: HostDeps) {
  /** keys: the values to keep out of heartbeats (the Temporal UI shows them), errors and returned lines. */
  async function run(container: string, cmd: string[], what: string, keys: string[], o: { heartbeat?: boolean; user?: string } = {}) {
    const ctx = o.heartbeat ? Context.current() : null;
    const r = await execIn(deps.docker, container, cmd, { user: o.user, onLine: (l) => ctx?.heartbeat(redactValues(l, keys)) });
    if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${tail(r.lines, keys, 5).join(' | ')}`);
    return r.lines;
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
      const created = await run(primary.instanceId, pgbackrest('stanza-create'), 'pgbackrest stanza-create', keys, { heartbeat: true });
      const checked = await run(primary.instanceId, pgbackrest('check'), 'pgbackrest check', keys, { heartbeat: true });
      return { lines: tail([...created, ...checked], keys, 20) };
    },

    /** A backup on the instance (the node's primary), its output returned for the task log. */
    async runBackup(r: BackupRequest): Promise<{ lines: string[] }> {
      const keys = keysOf(await loadDatabase(deps.store, r.databaseId));
      const annotations = Object.entries(r.annotations ?? {}).map(([k, v]) => `--annotation=${k}=${v}`);
      const lines = await run(r.instanceId, pgbackrest('backup', `--type=${r.type}`, ...annotations, ...optionFlags(r.options)), `pgbackrest backup on ${r.instanceId}`, keys, { heartbeat: true });
      return { lines: tail(lines, keys) };
    },
  };
}
