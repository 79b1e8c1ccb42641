// The replication driver's SQL, for both catalogs against the same expectations: a recording stand-in for
// pg.ClientBase answers from a small simulated catalog (one subscription, some slots). This checks only the
// statements built from each catalog; pglogical's real behaviour is covered by the e2e tests, Spock's by no test here.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pglogicalCatalog, spockCatalog, type ReplicationCatalog } from '../../activities/replication/catalogs.js';
import { driverFor } from '../../activities/replication/index.js';
import { replicationSets, userTablesQuery } from '../../activities/replication/sets.js';

interface Sent { text: string; params: unknown[] }
interface NodeState {
  sub?: { enabled: boolean; slot: string; dsn: string };
  slots?: string[]; // logical slots on this node, none in use
  providerStillUsed?: boolean; // a subscription here still reads from the node being forgotten
  readOnly?: string;
}

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** A pg.ClientBase that records each statement and answers like a node in `state` (which it updates). */
function fakeNode(cat: ReplicationCatalog, state: NodeState = {}) {
  const sent: Sent[] = [];
  const answer = (text: string, params: unknown[]): object[] => {
    if (text.startsWith(`SELECT ${cat.createSubscription}(`)) {
      state.sub = { enabled: !text.includes('enabled := false'), slot: `${cat.slotPrefix}_app_n2_${String(params[0])}`, dsn: String(params[1]) };
    }
    if (text.startsWith(`SELECT ${cat.enableSubscription}(`) && state.sub) state.sub.enabled = true;
    if (text.startsWith(`SELECT ${cat.disableSubscription}(`) && state.sub) state.sub.enabled = false;
    if (text.startsWith('SELECT pg_drop_replication_slot($1)')) state.slots = state.slots?.filter((s) => s !== params[0]);
    if (/sub_id AS id, sub_slot_name AS slot/.test(text)) return state.sub ? [{ id: 1, ...state.sub }] : [];
    if (/sub_enabled AS enabled FROM/.test(text)) return state.sub ? [{ enabled: state.sub.enabled }] : [];
    if (/i\.if_dsn AS dsn/.test(text)) return state.sub ? [{ dsn: state.sub.dsn, node: 'n2' }] : [];
    if (/FROM pg_replication_slots WHERE slot_type = 'logical'/.test(text)) return (state.slots ?? []).map((slot) => ({ slot }));
    if (/active_pid AS pid/.test(text)) return state.slots?.includes(String(params[0])) ? [{ pid: null }] : [];
    if (/JOIN \w+\.node n ON n\.node_id = s\.sub_origin/.test(text)) return state.providerStillUsed ? [{}] : [];
    if (/output_plugin_libraries'$/.test(text)) return [{ boot: 'pgoutput, test_decoding' }];
    if (/pg_current_wal_lsn|pg_create_logical_replication_slot/.test(text)) return [{ lsn: '0/A0' }];
    if (/pg_replication_origin_progress\(\$1, true\)/.test(text)) return [{ lsn: '0/B0' }];
    if (/current_setting\(/.test(text)) return [{ ro: state.readOnly ?? 'off' }];
    return [];
  };
  const client = {
    escapeIdentifier: pg.escapeIdentifier,
    escapeLiteral: pg.escapeLiteral,
    async query(text: string, params: unknown[] = []) {
      sent.push({ text: squash(text), params });
      const rows = answer(squash(text), params);
      return { rows, rowCount: rows.length };
    },
  };
  return { client: client as unknown as pg.ClientBase, sent, state, texts: () => sent.map((s) => s.text) };
}

const sub = { name: 'sub_n1n2', providerDsn: 'host=n2 dbname=app' };

describe.each([pglogicalCatalog, spockCatalog])('the $name driver', (cat) => {
  const driver = driverFor(cat.name);
  const other = cat.name === 'spock' ? pglogicalCatalog : spockCatalog;

  it('is the one made from its catalog', () => {
    expect(driver.name).toBe(cat.name);
  });

  it('makes a missing subscription to all origins of the provider, running, without copying', async () => {
    const node = fakeNode(cat);
    await driver.ensureSubscription(node.client, sub);
    const create = node.sent.find((s) => s.text.startsWith(`SELECT ${cat.createSubscription}(`));
    expect(create?.text).toContain("forward_origins := '{}'");
    expect(create?.text).toContain('synchronize_structure := false, synchronize_data := false');
    expect(create?.params).toEqual([sub.name, sub.providerDsn, replicationSets]);
    expect(node.state.sub?.enabled).toBe(true);
  });

  it('leaves a running subscription with the same provider DSN alone (idempotent)', async () => {
    const node = fakeNode(cat, { sub: { enabled: true, slot: 's', dsn: sub.providerDsn } });
    await driver.ensureSubscription(node.client, sub);
    expect(node.texts().every((t) => t.startsWith('SELECT sub_enabled') || t.startsWith('SELECT i.if_dsn'))).toBe(true);
  });

  it('enables an existing subscription left disabled, and moves it to the provider\'s new DSN', async () => {
    const node = fakeNode(cat, { sub: { enabled: false, slot: 's', dsn: 'host=old' } });
    await driver.ensureSubscription(node.client, sub);
    expect(node.texts()).toContain(`SELECT ${cat.enableSubscription}($1, immediate := true)`);
    expect(node.texts()).toContain(`SELECT ${cat.switchInterface}($1, $2)`);
    expect(node.texts().some((t) => t.startsWith(`SELECT ${cat.createSubscription}(`))).toBe(false);
  });

  it('drops a subscription only if it exists', async () => {
    const node = fakeNode(cat);
    await driver.dropSubscription(node.client, sub.name);
    expect(node.sent).toEqual([{ text: `SELECT ${cat.dropSubscription}($1, ifexists := true)`, params: [sub.name] }]);
  });

  it('prepares a join subscription that is stopped and marked synchronized in one transaction', async () => {
    const node = fakeNode(cat);
    const { slotName } = await driver.join.prepareSubscription(node.client, sub);
    const texts = node.texts();
    expect(slotName).toBe(`${cat.slotPrefix}_app_n2_${sub.name}`);
    expect(texts.indexOf('BEGIN')).toBeLessThan(texts.findIndex((t) => t.startsWith(`SELECT ${cat.createSubscription}(`)));
    expect(texts.find((t) => t.startsWith(`UPDATE ${cat.schema}.local_sync_status SET sync_status = 'r'`))).toBeDefined();
    expect(texts.indexOf('COMMIT')).toBeGreaterThan(texts.findIndex((t) => t.startsWith(`UPDATE ${cat.schema}.local_sync_status`)));
    expect(node.state.sub?.enabled).toBe(false);
    const again = fakeNode(cat, node.state);
    expect(await driver.join.prepareSubscription(again.client, sub)).toEqual({ slotName });
    expect(again.sent).toHaveLength(1);
  });

  it('pauses a running subscription and returns the applied position of its origin', async () => {
    const node = fakeNode(cat, { sub: { enabled: true, slot: 'slot_a', dsn: sub.providerDsn } });
    expect(await driver.join.pauseSubscription(node.client, sub.name)).toEqual({ lsn: '0/B0' });
    expect(node.texts()).toContain(`SELECT ${cat.disableSubscription}($1, immediate := true)`);
    expect(node.sent).toContainEqual({ text: 'SELECT pg_replication_origin_session_setup($1)', params: ['slot_a'] });
    const paused = fakeNode(cat, node.state);
    expect(await driver.join.pauseSubscription(paused.client, sub.name)).toEqual({ lsn: '0/B0' });
    expect(paused.texts().some((t) => t.startsWith(`SELECT ${cat.disableSubscription}(`))).toBe(false);
  });

  it('sets a start position only while the subscription is stopped, on its origin', async () => {
    const running = fakeNode(cat, { sub: { enabled: true, slot: 'slot_a', dsn: sub.providerDsn } });
    await expect(driver.join.setStartPosition(running.client, sub.name, '0/C0')).rejects.toThrow(/already runs/);
    const stopped = fakeNode(cat, { sub: { enabled: false, slot: 'slot_a', dsn: sub.providerDsn } });
    await driver.join.setStartPosition(stopped.client, sub.name, '0/C0');
    expect(stopped.sent).toContainEqual({ text: 'SELECT pg_replication_origin_advance($1, $2::pg_lsn)', params: ['slot_a', '0/C0'] });
  });

  it('copies the provider with a subscription that synchronizes structure and data', async () => {
    const node = fakeNode(cat);
    await driver.join.startCopy(node.client, sub);
    const create = node.texts().find((t) => t.startsWith(`SELECT ${cat.createSubscription}(`));
    expect(create).toContain('synchronize_structure := true, synchronize_data := true');
    expect(node.state.sub?.enabled).toBe(true);
  });

  it('puts user tables in replication sets with the one user-tables query, after a copy and after a restore', async () => {
    const node = fakeNode(cat);
    await driver.join.finishNode(node.client);
    await driver.addExistingTables(node.client);
    const adds = node.texts().filter((t) => t.includes(squash(userTablesQuery)));
    expect(adds).toEqual([squash(cat.addExistingTables), squash(cat.addExistingTables)]);
  });

  it('forgets a removed node: the slots its subscriptions record here, then its node record once nothing reads from it', async () => {
    const slot = `${cat.slotPrefix}_app_n1_sub_n1000a3f09c2`; // a long name's slot: shortened with a hash
    const node = fakeNode(cat, { slots: [slot, 'other'] });
    await driver.join.forgetNode(node.client, { name: 'n3', slotNames: [slot] });
    expect(node.state.slots).toEqual(['other']);
    expect(node.sent.at(-1)).toEqual({ text: `SELECT ${cat.dropNode}($1, ifexists := true)`, params: ['n3'] });
    const used = fakeNode(cat, { providerStillUsed: true });
    await driver.join.forgetNode(used.client, { name: 'n3', slotNames: [] });
    expect(used.texts().some((t) => t.startsWith(`SELECT ${cat.dropNode}(`))).toBe(false);
  });

  it('after a restore, drops its extension and only its own origins and slots', async () => {
    const node = fakeNode(cat);
    await driver.resetAfterRestore(node.client);
    expect(node.texts()).toEqual([
      `DROP EXTENSION IF EXISTS ${cat.name} CASCADE`,
      `SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname LIKE '${cat.slotPrefix}\\_%'`,
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE plugin = '${cat.outputPlugin}' AND NOT active`,
    ]);
  });

  it('lets logical decoding load its output plugin before making the node', async () => {
    const node = fakeNode(cat);
    await driver.ensureNode(node.client, { name: 'n1', dsn: 'host=n1' });
    const texts = node.texts();
    expect(texts.find((t) => t.startsWith('ALTER ROLE'))).toContain(`'${cat.outputPlugin}'`);
    expect(texts).toContain(`CREATE EXTENSION IF NOT EXISTS ${cat.name}`);
    expect(texts).toContain(`SELECT ${cat.createNode}(node_name := $1, dsn := $2)`);
  });

  it('reports read-only from its setting', async () => {
    expect(await driver.readOnly(fakeNode(cat, { readOnly: 'off' }).client)).toBe('off');
    expect(await driver.readOnly(fakeNode(cat, { readOnly: cat.name === 'spock' ? 'all' : 'on' }).client)).toBe('on');
  });

  it('never names the other layer in any statement it sends', async () => {
    const node = fakeNode(cat, { sub: { enabled: true, slot: 'slot_a', dsn: 'host=old' }, slots: ['x'] });
    const c = node.client;
    await driver.ensureNode(c, { name: 'n1', dsn: 'host=n1' });
    await driver.ensureSubscription(c, sub);
    await driver.subscriptions(c);
    await driver.restartSubscription(c, sub.name);
    await driver.resetAfterRestore(c);
    await driver.addExistingTables(c);
    await driver.version(c);
    await driver.readOnly(c);
    await driver.join.heartbeat(c);
    await driver.join.ensureSlot(c, 'slot_b');
    await driver.join.appliedPosition(c, sub.name);
    await driver.join.pauseSubscription(c, sub.name);
    await driver.join.resumeSubscription(c, sub.name);
    await driver.join.copyState(c, sub.name);
    await driver.join.finishNode(c);
    if (cat.catchUpSetting) await driver.join.setCatchUpMode(c, 'app', true);
    else await expect(driver.join.setCatchUpMode(c, 'app', true)).rejects.toThrow(/cannot be joined by copy without losing changes/);
    await driver.join.setCatchUpMode(c, 'app', false);
    await driver.join.forgetNode(c, { name: 'n2', slotNames: ['x'] });
    await driver.join.logicalSlots(c);
    await driver.join.dropSlots(c, ['x']);
    await driver.dropSubscription(c, sub.name);
    const all = [...node.texts(), driver.restoredSubscriptionsOff, ...node.sent.flatMap((s) => s.params.map(String))];
    expect(all.length).toBeGreaterThan(30);
    expect(all.filter((t) => t.includes(`${other.schema}.`) || t.includes(other.outputPlugin) || t.includes(`'${other.slotPrefix}\\_`))).toEqual([]);
    expect(all.some((t) => t.includes(`${cat.schema}.`))).toBe(true);
  });
});
