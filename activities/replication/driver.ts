// The replication layer behind one interface: Spock 5 on pgEdge images, pglogical 2 (Spock's ancestor) on the
// images built here from Debian. Every method is idempotent ("ensure"), run on a client connected to the node's
// primary, inside the application database.
import type pg from 'pg';

export interface SubscriptionStatus { name: string; providerNode: string; status: string }

export interface ReplicationDriver {
  readonly name: 'pglogical' | 'spock';
  /** Extension, replication node and automatic DDL replication on this node. */
  ensureNode(client: pg.ClientBase, node: { name: string; dsn: string }): Promise<void>;
  /** A subscription on this node receiving every change the provider originates (forward_origins = {}). */
  ensureSubscription(client: pg.ClientBase, sub: { name: string; providerDsn: string }): Promise<void>;
  dropSubscription(client: pg.ClientBase, name: string): Promise<void>;
  subscriptions(client: pg.ClientBase): Promise<SubscriptionStatus[]>;
  /** Re-enables a subscription whose apply worker gave up (e.g. while its provider had no primary). */
  restartSubscription(client: pg.ClientBase, name: string): Promise<void>;
  version(client: pg.ClientBase): Promise<string>;
  readOnly(client: pg.ClientBase): Promise<'on' | 'off'>;
}

/** Sessions of the control plane set this, so its own DDL (functions, triggers) is never replicated. */
export const internalSessionSetting = "SET pgcp.internal = 'on'";
