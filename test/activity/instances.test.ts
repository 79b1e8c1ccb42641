// Instance activities against real Docker, the real images and a real store: converging twice changes nothing, a
// drifted spec recreates the container and keeps its data, removals tolerate what is already gone.
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import type { HostDeps } from '../../activities/deps.js';
import { createDocker, labels } from '../../activities/docker/client.js';
import { instanceHostFiles } from '../../activities/docker/instance-files.js';
import { instanceAddress } from '../../activities/addresses.js';
import { deletePrefix } from '../../activities/etcd.js';
import { createHostActivities } from '../../activities/index.js';
import { withClient } from '../../activities/postgres/connect.js';
import { loadConfig, projectRoot } from '../../platform/config.js';
import { insertDatabase, newDatabaseSecrets, transitionDatabase } from '../../store/databases.js';
import { upsertInstance } from '../../store/instances.js';
import { ids } from '../../workflows/model/ids.js';
import { sweepDockerObjects } from '../support/docker-sweep.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { stackEtcd } from '../support/etcd.js';

/** Every Docker object these tests make carries this namespace label, and is swept by it. */
const namespace = 'pgcp-test-activity';
const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const databaseId = `act-${suffix}`;
const instanceId = ids.instance(databaseId, 'n1', 'host-1');
const key = { databaseId, instanceId };
const secrets = { ...newDatabaseSecrets(), superuserPassword: `su-${suffix}-pw`, replicationPassword: `repl-${suffix}-pw` };
const spec = { database_name: 'app', postgres_version: '17', port: 0, nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;

let db: TestStore;
let deps: HostDeps;
let activities: ReturnType<typeof createHostActivities>;
const env = new MockActivityEnvironment({ namespace, workflowNamespace: namespace });
/** Runs an activity in a mock activity context (it heartbeats and labels with the namespace). */
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args);

const containersOf = async (id: string) => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.instanceId}=${id}`] }) });
const networksNamed = async (name: string) => (await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) })).filter((n) => n.Name === name);
const volumeExists = async (name: string) => docker.getVolume(name).inspect().then(() => true, () => false);
const exists = async (p: string) => stat(p).then(() => true, () => false);

beforeAll(async () => {
  const stack = inject('stack');
  await sweepDockerObjects(docker, namespace); // an interrupted run's leftovers
  db = await createTestStore(stack.storeUrl);
  const config = loadConfig({ PGCP_HOST_ID: 'host-1', PGCP_ETCD_URL: stack.etcdUrl });
  const dataDir = path.join(projectRoot, '.data', 'test-stack', `activity-${suffix}`);
  await mkdir(dataDir, { recursive: true });
  deps = {
    docker, store: db.store, hostId: 'host-1', hostAddress: config.hostAddress, dataDir,
    etcdHostsForContainers: config.etcdHostsForContainers, etcd: stackEtcd(), containerExtraHosts: config.containerExtraHosts, repositoryRoots: config.repositoryRoots,
  };
  activities = createHostActivities(deps);
  await insertDatabase(db.store, { id: databaseId, tenantId: null, spec, secrets, state: 'creating' });
  await upsertInstance(db.store, { id: instanceId, databaseId, nodeName: 'n1', hostId: 'host-1', state: 'creating' });
});

afterAll(async () => {
  await sweepDockerObjects(docker, namespace);
  await deletePrefix(stackEtcd(), ids.patroniKeys(databaseId, 'n1')).catch(() => undefined);
  if (deps) await rm(deps.dataDir, { recursive: true, force: true });
  await db?.drop();
});

describe('ensureInstance', () => {
  let firstId: string;

  it('made twice is one running container, kept the second time', async () => {
    const first = await run(activities.ensureInstance, key);
    const second = await run(activities.ensureInstance, key);
    firstId = first.containerId;
    expect(first.recreated).toBe(false);
    expect(second).toEqual({ containerId: first.containerId, recreated: false });
    const containers = await containersOf(instanceId);
    expect(containers.map((c) => [c.Id, c.State])).toEqual([[first.containerId, 'running']]);
    expect(await networksNamed(ids.network(databaseId))).toHaveLength(1);
    expect(await volumeExists(ids.volume(instanceId))).toBe(true);
  });

  it('waiting for an instance whose container was killed while it booted starts it again, with its secrets', async () => {
    await docker.getContainer(instanceId).kill();
    expect((await docker.getContainer(instanceId).inspect()).State.Running).toBe(false);
    expect(await run(activities.waitForInstance, key)).toEqual({ role: 'primary' });
    expect((await containersOf(instanceId)).map((c) => c.State)).toEqual(['running']);
  }, 180_000);

  it('recreates the container when the stored spec drifted, and the volume keeps the data', async () => {
    expect(await run(activities.waitForInstance, key)).toEqual({ role: 'primary' });
    const before = (await instanceAddress(deps, databaseId, instanceId))!;
    await withClient(before, secrets, 'postgres', async (c) => {
      await c.query('CREATE TABLE kept (v text)');
      await c.query("INSERT INTO kept VALUES ('written before the drift')");
      await c.query('CHECKPOINT');
    });

    await transitionDatabase(db.store, databaseId, 'any', 'modifying', { ...spec, memory: '1GiB' } as DatabaseSpec);
    const again = await run(activities.ensureInstance, key);
    expect(again.recreated).toBe(true);
    expect(again.containerId).not.toBe(firstId);
    expect((await containersOf(instanceId)).map((c) => c.Id)).toEqual([again.containerId]);
    expect((await docker.getContainer(instanceId).inspect()).HostConfig.Memory).toBe(2 ** 30);

    // Patroni may first come back as a replica, until its old leader key expires: either serves reads.
    await run(activities.waitForInstance, key);
    const after = (await instanceAddress(deps, databaseId, instanceId))!;
    const rows = await withClient(after, secrets, 'postgres', async (c) => (await c.query<{ v: string }>('SELECT v FROM kept')).rows);
    expect(rows).toEqual([{ v: 'written before the drift' }]);
  });

  it('refuses for good an instance of another host', async () => {
    const other = createHostActivities({ ...deps, hostId: 'host-2' });
    const err = await run(other.ensureInstance, key).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'Misconfigured', nonRetryable: true, message: `instance ${instanceId} belongs to host-1, not host-2` });
  });
});

describe('removeInstance', () => {
  it('removes the container, the volume and the host files; again, and of an instance never made, is fine', async () => {
    await run(activities.removeInstance, key);
    expect(await containersOf(instanceId)).toEqual([]);
    expect(await volumeExists(ids.volume(instanceId))).toBe(false);
    expect(await exists(instanceHostFiles(deps.dataDir, instanceId).dir)).toBe(false);

    await run(activities.removeInstance, key);
    await run(activities.removeInstance, { databaseId, instanceId: ids.instance(databaseId, 'n9', 'host-1') });
  });
});

describe('database network', () => {
  const netDatabase = `${databaseId}-net`;
  const name = ids.network(netDatabase);

  it('made twice is one network', async () => {
    await run(activities.ensureDatabaseNetwork, { databaseId: netDatabase });
    await run(activities.ensureDatabaseNetwork, { databaseId: netDatabase });
    const networks = await networksNamed(name);
    expect(networks).toHaveLength(1);
    expect(networks[0]!.Labels).toMatchObject({ [labels.databaseId]: netDatabase, [labels.namespace]: namespace });
  });

  it('removed twice is gone, without an error', async () => {
    await run(activities.removeDatabaseNetwork, { databaseId: netDatabase });
    await run(activities.removeDatabaseNetwork, { databaseId: netDatabase });
    expect(await networksNamed(name)).toEqual([]);
  });
});
