// A subscription's provider DSN names the provider node's members; when they change (a replica added or removed),
// the subscription moves to a new interface of the provider node holding the new DSN. pglogical and Spock share the
// catalog shape (node, node_interface, subscription.sub_origin_if) and differ in schema and function names, which
// their catalogs (catalogs.ts) give.
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface InterfaceCatalog { schema: 'pglogical' | 'spock'; addInterface: string; switchInterface: string }

/** Switches the subscription to an interface with `dsn` unless it uses one already. The name hashes the DSN. */
export async function ensureSubscriptionDsn(client: pg.ClientBase, cat: InterfaceCatalog, subscription: string, dsn: string): Promise<boolean> {
  const s = cat.schema;
  const { rows } = await client.query<{ dsn: string; node: string }>(
    `SELECT i.if_dsn AS dsn, n.node_name AS node FROM ${s}.subscription sub
     JOIN ${s}.node_interface i ON i.if_id = sub.sub_origin_if JOIN ${s}.node n ON n.node_id = sub.sub_origin
     WHERE sub.sub_name = $1`, [subscription]);
  const current = rows[0];
  if (!current || current.dsn === dsn) return false;
  const name = `if_${createHash('sha1').update(dsn).digest('hex').slice(0, 12)}`;
  const { rowCount } = await client.query(
    `SELECT 1 FROM ${s}.node_interface i JOIN ${s}.node n ON n.node_id = i.if_nodeid WHERE n.node_name = $1 AND i.if_name = $2`, [current.node, name]);
  if (!rowCount) await client.query(`SELECT ${cat.addInterface}($1, $2, $3)`, [current.node, name, dsn]);
  await client.query(`SELECT ${cat.switchInterface}($1, $2)`, [subscription, name]);
  return true;
}
