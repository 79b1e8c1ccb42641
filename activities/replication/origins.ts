// PostgreSQL's own slot and replication-origin functions, used by the join primitives (create-join.ts): which
// logical replication layer owns a subscription does not change how its slot and origin positions are read or set.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** Phase of a subscription's initial sync from its sync status letter (same letters in pglogical and Spock). */
export const syncPhase: Record<string, string> = { i: 'snapshot', s: 'copying', d: 'copying', c: 'copying', u: 'done', y: 'done', r: 'done' };

/** The slot of this name, made now with this output plugin when missing; its start position. */
export async function ensureLogicalSlot(client: pg.ClientBase, slotName: string, plugin: string): Promise<{ lsn: string }> {
  const { rows } = await client.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slotName]);
  if (rows[0]) return { lsn: rows[0].lsn };
  const made = await client.query<{ lsn: string }>('SELECT lsn::text FROM pg_create_logical_replication_slot($1, $2)', [slotName, plugin]);
  return { lsn: made.rows[0]!.lsn };
}

/** How far the subscriber applied (end of the last applied commit), or null when the origin does not exist yet. */
export async function originPosition(client: pg.ClientBase, origin: string): Promise<string | null> {
  const { rows } = await client.query<{ lsn: string | null }>(
    'SELECT CASE WHEN pg_replication_origin_oid($1) IS NULL THEN NULL ELSE pg_replication_origin_progress($1, false)::text END AS lsn',
    [origin],
  );
  return rows[0]?.lsn ?? null;
}

/** Sets the origin (made if missing) to `lsn`; the subscription must not run. */
export async function setOriginPosition(client: pg.ClientBase, origin: string, lsn: string): Promise<void> {
  await client.query('SELECT pg_replication_origin_create($1) WHERE pg_replication_origin_oid($1) IS NULL', [origin]);
  await client.query('SELECT pg_replication_origin_advance($1, $2::pg_lsn)', [origin, lsn]);
}

/**
 * Holds the origin for a moment: proves no apply worker uses it any more (a just-disabled one may still be
 * stopping: 55006 object_in_use, retried), and reads its position meanwhile.
 */
export async function stableOriginPosition(client: pg.ClientBase, origin: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query('SELECT pg_replication_origin_session_setup($1)', [origin]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== '55006' && code !== '55000') || attempt > 150) throw err;
      await sleep(200);
      continue;
    }
    try {
      const { rows } = await client.query<{ lsn: string | null }>('SELECT pg_replication_origin_progress($1, true)::text AS lsn', [origin]);
      return rows[0]?.lsn ?? '0/0';
    } finally {
      await client.query('SELECT pg_replication_origin_session_reset()');
    }
  }
}
