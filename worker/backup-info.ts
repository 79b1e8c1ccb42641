// What a node's backup repositories hold, for the status report and metrics: pgBackRest's `info --output=json` on
// the node's primary, read now and then (it may reach an object store), reduced to the last successful backup and
// the earliest point a point-in-time restore can reach (the end of the oldest backup).
import type Docker from 'dockerode';
import { execIn } from '../activities/docker/exec.js';
import type { BackupStatus } from '../store/instances.js';
import { pgbackrestConfigPath } from '../workflows/model/backup.js';
import { ids } from '../workflows/model/ids.js';
import { redactValues } from '../workflows/model/redact.js';

interface InfoBackup { error?: boolean; label?: string; type?: string; timestamp?: { start?: number; stop?: number } }
interface InfoStanza { name?: string; backup?: InfoBackup[]; status?: { code?: number; message?: string } }

/** Pure: pgBackRest's info JSON → the node's backup status. */
export function parseBackupInfo(json: string, checkedAt: Date): BackupStatus {
  const stanzas = JSON.parse(json) as InfoStanza[];
  const backups = stanzas.flatMap((s) => s.backup ?? []).filter((b) => b.error !== true && typeof b.timestamp?.stop === 'number');
  const stops = backups.map((b) => b.timestamp!.stop! * 1000).sort((a, b) => a - b);
  const last = backups.find((b) => b.timestamp!.stop! * 1000 === stops.at(-1));
  const out: BackupStatus = { checkedAt: checkedAt.toISOString(), count: backups.length };
  if (stops.length > 0) {
    out.lastSuccessAt = new Date(stops.at(-1)!).toISOString();
    out.earliestRecoveryPoint = new Date(stops[0]!).toISOString();
    if (last?.label) out.lastLabel = last.label;
    if (last?.type) out.lastType = last.type;
  }
  const status = stanzas[0]?.status;
  // code 2: no valid backups yet, not an error worth showing
  if (status && status.code !== 0 && status.code !== 2 && status.message) out.error = status.message;
  return out;
}

/** keys: the repositories' key values, kept out of an error text (S3 errors echo the access key). */
export async function readBackupInfo(docker: Docker, instanceId: string, keys: string[], now = new Date()): Promise<BackupStatus> {
  const r = await execIn(docker, instanceId, ['pgbackrest', `--config=${pgbackrestConfigPath}`, `--stanza=${ids.stanza}`, 'info', '--output=json']);
  if (r.exitCode !== 0) return { checkedAt: now.toISOString(), count: 0, error: `pgbackrest info failed (exit ${r.exitCode}): ${r.lines.filter((l) => l.trim()).slice(-2).map((l) => redactValues(l, keys)).join(' | ')}` };
  const info = parseBackupInfo(r.lines.join('\n'), now);
  return info.error ? { ...info, error: redactValues(info.error, keys) } : info;
}
