// The replication layer behind one interface: Spock 5 on pgEdge images, pglogical 2 (Spock's ancestor) on the
// images built here from Debian. Every method is idempotent ("ensure"), run on a client connected to the node's
// primary, inside the application database. create-driver.ts implements it once over a catalog of names (catalogs.ts).
import type pg from 'pg';

/** slot: the provider's slot it reads, as the subscription records it (long names are shortened with a hash). */
export interface SubscriptionStatus { name: string; providerNode: string; status: string; slot: string }

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
  /**
   * After a restore the node's replication catalog is the backup's (subscriptions, positions, node): all of it goes,
   * then ensureNode makes the node again and `addExistingTables` puts the restored tables back in the sets.
   */
  resetAfterRestore(client: pg.ClientBase): Promise<void>;
  /**
   * SQL run on restored data before the replication layer is loaded (no worker runs yet): the backup's own
   * subscriptions turned off, so a copy of a node never reads from that node's slots on its peers.
   */
  readonly restoredSubscriptionsOff: string;
  addExistingTables(client: pg.ClientBase): Promise<number>;
  version(client: pg.ClientBase): Promise<string>;
  readOnly(client: pg.ClientBase): Promise<'on' | 'off'>;
  /** The primitives of the zero-downtime add-node protocol (ordered by workflows/procedures/node-membership.ts). */
  readonly join: JoinDriver;
}

/**
 * Slot-first add-node. A new node N joins from a source S while every other peer P keeps taking writes:
 * N's subscriptions to each P are made disabled, P keeps a slot for N from then on, S catches up with P past that
 * slot, S's intake from the peers is paused while the copy's snapshot is taken (so what S holds of each P is one
 * known position), N copies S, and N's subscriptions to each P start exactly at that position.
 * LSNs travel as text and are compared in SQL as pg_lsn, never as strings.
 */
export interface JoinDriver {
  /**
   * On a primary: the subscribers' walsenders may load the output plugin (minors with output_plugin_libraries). A
   * node that ran a minor without that gate gains it when upgraded: its new primary must allow the plugin again.
   */
  allowOutputPlugin(client: pg.ClientBase): Promise<void>;
  /** Own extension objects (automatic DDL) come with the copy: a joining node's node is made without them. */
  ensureBareNode(client: pg.ClientBase, node: { name: string; dsn: string }): Promise<void>;
  /** On N: a subscription that will not start nor copy until told (enabled later, from a set position). */
  prepareSubscription(client: pg.ClientBase, sub: { name: string; providerDsn: string }): Promise<{ slotName: string }>;
  /** On P: the slot N's subscription will read, made now; returns the position it starts at. */
  ensureSlot(client: pg.ClientBase, slotName: string): Promise<{ lsn: string }>;
  /** On any provider: a tiny replicated commit, so an idle node's subscribers still move forward. */
  heartbeat(client: pg.ClientBase): Promise<{ lsnBefore: string }>;
  /** On a subscriber: how far it has applied the provider's changes (end of the last applied commit). */
  appliedPosition(client: pg.ClientBase, subName: string): Promise<string | null>;
  /** On S: stops applying this subscription and returns the applied position, stable until resumed. */
  pauseSubscription(client: pg.ClientBase, subName: string): Promise<{ lsn: string }>;
  resumeSubscription(client: pg.ClientBase, subName: string): Promise<void>;
  /** On N, while the subscription is disabled: it will start from exactly this provider position. */
  setStartPosition(client: pg.ClientBase, subName: string, lsn: string): Promise<void>;
  /** On N: a subscription that copies the provider's structure and data, then streams from the copy's point. */
  startCopy(client: pg.ClientBase, sub: { name: string; providerDsn: string }): Promise<void>;
  /** Where that copy is: 'snapshot' until the source's snapshot exists, 'copying', 'done', or 'failed: …'. */
  copyState(client: pg.ClientBase, subName: string): Promise<string>;
  /** After the copy: automatic DDL on N and every copied table in N's replication sets. */
  finishNode(client: pg.ClientBase): Promise<void>;
  /** On N, until its catch-up is over: changes from peers win over copied rows (their commit times are the copy's). */
  setCatchUpMode(client: pg.ClientBase, database: string, on: boolean): Promise<void>;
  /** The layer's logical slots on this node (its output plugin's), and whether a reader holds each now. */
  logicalSlots(client: pg.ClientBase): Promise<{ name: string; active: boolean }[]>;
  /** Drops these slots here (ending a walsender still reading one); gone ones are skipped. */
  dropSlots(client: pg.ClientBase, slotNames: string[]): Promise<void>;
  /**
   * On a remaining node: removes what pointed at a removed node — the slots its subscriptions read here, by the
   * names those subscriptions record (never by a name's ending: long names are shortened) — and its node record.
   */
  forgetNode(client: pg.ClientBase, node: { name: string; slotNames: string[] }): Promise<void>;
}

export const lsnAtLeast = 'SELECT $1::pg_lsn >= $2::pg_lsn AS ok';

/** Sessions of the control plane set this, so its own DDL (functions, triggers) is never replicated. */
export const internalSessionSetting = "SET pgcp.internal = 'on'";
