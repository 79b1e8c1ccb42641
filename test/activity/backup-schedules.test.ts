// Backup schedules against a real Temporal and a real store: syncing one database's schedules leaves every other
// database's alone, also one whose id starts with the first one's (`a` and `a-b`).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { createControlPlaneActivities } from '../../activities/index.js';
import { connectClient } from '../../platform/temporal.js';
import { insertDatabase, deleteDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { testSecretKey } from '../support/secret-key.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { stackEtcd } from '../support/etcd.js';
import { waitFor } from '../support/wait.js';

const suffix = Math.random().toString(36).slice(2, 7);
const a = `sched-${suffix}`;
const ab = `${a}-b`;
const spec = (nodes: string[]): DatabaseSpec => ({
  database_name: 'app',
  nodes: nodes.map((name) => ({ name, host_ids: ['host-1'] })),
  backup_config: {
    repositories: [{ type: 'posix', base_path: '/var/lib/pgcp-test-backups' }],
    schedules: [{ id: 'daily', type: 'full', cron_expression: '0 3 * * *' }],
  },
} as DatabaseSpec);

let db: TestStore;
let temporal: Client;
let activities: ReturnType<typeof createControlPlaneActivities>;

const scheduleIds = async (databaseId: string) => {
  const out: string[] = [];
  for await (const s of temporal.schedule.list()) if (s.memo?.databaseId === databaseId) out.push(s.scheduleId);
  return out.sort();
};

beforeAll(async () => {
  const stack = inject('stack');
  db = await createTestStore(stack.storeUrl);
  temporal = await connectClient(stack.temporalAddress, stack.namespace, { secretKey: testSecretKey() });
  activities = createControlPlaneActivities({ store: db.store, etcd: stackEtcd(), temporal });
  const secrets = newDatabaseSecrets();
  await insertDatabase(db.store, { id: a, tenantId: null, spec: spec(['n1']), secrets, state: 'available' });
  await insertDatabase(db.store, { id: ab, tenantId: null, spec: spec(['n1', 'n2']), secrets, state: 'available' });
});

afterAll(async () => {
  for (const id of [a, ab]) {
    await deleteDatabase(db.store, id);
    await activities.syncBackupSchedules({ databaseId: id });
  }
  await temporal?.connection.close();
  await db?.drop();
});

describe('syncBackupSchedules', () => {
  it('makes, keeps and deletes only the schedules of the database it syncs', async () => {
    // Schedules reach the list through visibility a moment after they are made: wait for each, as a later sync would.
    const listed = (id: string, n: number) => waitFor(`${n} schedules of ${id} listed`, async () => (await scheduleIds(id)).length === n, 20_000, 200);
    await activities.syncBackupSchedules({ databaseId: ab });
    await listed(ab, 2);
    expect(await scheduleIds(ab)).toEqual([`backup-${ab}-n1-daily`, `backup-${ab}-n2-daily`]);
    const first = await activities.syncBackupSchedules({ databaseId: a });
    expect(first).toEqual({ created: [`backup-${a}-n1-daily`], updated: [], deleted: [] });
    await listed(a, 1);
    // `a` syncs again, then loses its record: its schedule goes, a-b's (same id prefix) stay.
    expect(await activities.syncBackupSchedules({ databaseId: a })).toEqual({ created: [], updated: [`backup-${a}-n1-daily`], deleted: [] });
    await deleteDatabase(db.store, a);
    expect(await activities.syncBackupSchedules({ databaseId: a })).toEqual({ created: [], updated: [], deleted: [`backup-${a}-n1-daily`] });
    await listed(a, 0);
    expect(await scheduleIds(ab)).toEqual([`backup-${ab}-n1-daily`, `backup-${ab}-n2-daily`]);
  });
});
