// Configuration changes on a running node: postgresql_conf, pg_hba_conf and pg_ident_conf go to the node's DCS
// through Patroni, which reloads every member. Parameters that need a restart are left pending (the instance shows
// pending_restart) and never restarted here.
import type pg from 'pg';
import { archiveCommand, nodeBackupConfig } from '../../workflows/model/backup.js';
import { effectiveConf, effectiveLines } from '../../workflows/model/instances.js';
import type { HostDeps } from '../deps.js';
import { instanceAddress } from '../addresses.js';
import { loadDatabase, type NodeKey } from '../database-context.js';
import { pollUntil } from '../heartbeats.js';
import { withClient } from '../postgres/connect.js';
import { resolvePrimary } from '../postgres/node-database.js';
import { getDynamicConfig, patchDynamicConfig } from './client.js';
import { configPatch, dynamicPostgresConfig } from './config.js';

/** A parameter's last entry in the configuration files Postgres reads (pg_file_settings), and whether it is in effect. */
export interface FileSetting { setting: string; applied: boolean }

/**
 * Pure: a reload-level parameter changed through Patroni has reached the member's file once its entry there changed
 * and is valid (`applied`: what a reload takes). With pg_conf_load_time moved since the change, it is in effect
 * (Patroni writes the file and reloads at once; a reload for another cause before the write no longer counts).
 */
export function settingTookEffect(before: FileSetting | null, now: FileSetting | null): boolean {
  return now !== null && now.applied && now.setting !== before?.setting;
}

async function fileSettings(c: pg.Client, names: string[]): Promise<Map<string, FileSetting | null>> {
  const { rows } = await c.query<{ name: string; setting: string; applied: boolean }>(
    'SELECT DISTINCT ON (name) name, setting, applied FROM pg_file_settings WHERE name = ANY ($1) ORDER BY name, seqno DESC', [names]);
  return new Map(names.map((n) => {
    const r = rows.find((x) => x.name === n);
    return [n, r ? { setting: r.setting, applied: r.applied } : null];
  }));
}

export function applyConfigActivities(deps: HostDeps) {
  return {
    /** Returns what changed (parameter names, hba, ident) and which parameters now wait for a restart. */
    async applyNodeConfig({ databaseId, nodeName }: NodeKey): Promise<{ changed: string[]; pendingRestart: string[] }> {
      const db = await loadDatabase(deps.store, databaseId);
      const desired = dynamicPostgresConfig({
        conf: effectiveConf(db.spec, nodeName),
        hba: effectiveLines(db.spec, nodeName, 'pg_hba_conf'),
        ident: effectiveLines(db.spec, nodeName, 'pg_ident_conf'),
        archiveCommand: archiveCommand(nodeBackupConfig(db.spec, nodeName)),
      });
      const primary = await resolvePrimary(deps, db, nodeName);
      const current = await getDynamicConfig(primary.address);
      if (!current) throw new Error(`Patroni on ${primary.instanceId} does not answer`);
      // A node made before in-node replication was synchronous (activities/patroni/config.ts) turns it on here.
      const syncOff = current.synchronous_mode !== true && current.synchronous_mode !== 'on';
      if (syncOff) await patchDynamicConfig(primary.address, db.secrets, { synchronous_mode: true });
      const patch = configPatch(current.postgresql, desired);
      if (!patch) return { changed: syncOff ? ['synchronous_mode'] : [], pendingRestart: [] };
      const section = patch.postgresql as { parameters?: Record<string, unknown>; pg_hba?: unknown; pg_ident?: unknown };
      const changed = [...(syncOff ? ['synchronous_mode'] : []), ...Object.keys(section.parameters ?? {}), ...(section.pg_hba ? ['pg_hba'] : []), ...(section.pg_ident ? ['pg_ident'] : [])];

      const members = db.instances.filter((i) => i.nodeName === nodeName);
      /** On a member, as the superuser; null when it cannot be reached (such a member is not waited for). */
      const onMember = async <T>(instanceId: string, fn: (c: pg.Client) => Promise<T>): Promise<T | null> => {
        const ip = await instanceAddress(deps, databaseId, instanceId);
        return ip ? withClient(ip, db.secrets, 'postgres', fn).catch(() => null) : null;
      };
      const loadTime = async (c: pg.Client) => (await c.query<{ t: string }>('SELECT pg_conf_load_time()::text AS t')).rows[0]!.t;
      const wanted = Object.entries(section.parameters ?? {}).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)] as const);
      const before = new Map<string, { t: string; file: Map<string, FileSetting | null> } | null>();
      for (const m of members) before.set(m.instanceId, await onMember(m.instanceId, async (c) => ({ t: await loadTime(c), file: await fileSettings(c, wanted.map(([k]) => k)) })));
      await patchDynamicConfig(primary.address, db.secrets, patch);
      // Applied once every running member has reloaded its configuration since the change and shows each changed
      // reload-level parameter at its new value: a reload for another cause (a configuration delivery's SIGHUP,
      // Patroni's own when it picks a synchronous standby) can move pg_conf_load_time before Patroni wrote the change.
      const showsChange = async (c: pg.Client, fileBefore: Map<string, FileSetting | null> | undefined) => {
        for (const [name, value] of wanted) {
          const { rows } = await c.query<{ context: string; now: string }>('SELECT context, current_setting(name) AS now FROM pg_settings WHERE name = $1', [name]);
          const row = rows[0];
          if (!row || row.context === 'postmaster') continue; // a restart-level one stays pending_restart
          // the value as Postgres writes it (units): set_config in a transaction that is rolled back, where allowed
          await c.query('BEGIN');
          const want = await c.query<{ v: string }>('SELECT set_config($1, $2, true) AS v', [name, value]).then((r) => r.rows[0]!.v, () => null);
          await c.query('ROLLBACK');
          if (want !== null) {
            if (row.now !== want) return false;
            continue;
          }
          // A sighup-level one cannot be set in a session, and its written form may differ from Postgres's: the
          // configuration file's entry must have changed (Patroni wrote it) and be the one in effect (reloaded).
          const now = (await fileSettings(c, [name])).get(name) ?? null;
          if (!settingTookEffect(fileBefore?.get(name) ?? null, now)) return false;
        }
        return true;
      };
      await pollUntil(`node ${nodeName} to reload its configuration`, 2 * 60_000, async () => {
        const waiting: string[] = [];
        for (const m of members) {
          const was = before.get(m.instanceId);
          const state = await onMember(m.instanceId, async (c) => ({ t: await loadTime(c), shows: await showsChange(c, was?.file) }));
          if (state !== null && (state.t === was?.t || !state.shows)) waiting.push(m.instanceId);
        }
        return waiting.length === 0 ? true : { waiting: `not reloaded yet: ${waiting.join(', ')}` };
      });
      const names = Object.keys(section.parameters ?? {});
      const pendingRestart = await withClient(primary.address, db.secrets, 'postgres', async (c) =>
        (await c.query<{ name: string }>('SELECT name FROM pg_settings WHERE pending_restart AND name = ANY ($1)', [names])).rows.map((r) => r.name));
      return { changed, pendingRestart };
    },
  };
}
