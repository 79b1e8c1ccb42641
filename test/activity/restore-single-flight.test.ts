// The in-place restore's one-off pgBackRest container against real Docker and a real store, with a stand-in script
// (a real restore needs a repository and minutes): it records each start in the instance's volume, runs 6 s
// silently, and prints a line. A retry of the step (as restoreInstance does it: the marker check, then the run)
// joins the container an earlier attempt of the same task still runs, finds the marker of a run that ended well, or
// reads the result of one that failed after its attempt was given up; it never starts the script again. Another
// task's leftover container is replaced.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ActivityCancellationDetails } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DatabaseSpec, RestoreConfigSpec } from '../../api/schemas/database-spec.js';
import { restoreMarked, restoreVolume, type RestoreTarget } from '../../activities/backup/restore-steps.js';
import type { HostDeps } from '../../activities/deps.js';
import { createDocker, inspectContainerOrNull, labels, removeContainer } from '../../activities/docker/client.js';
import { requireBuiltImage } from '../../activities/docker/images.js';
import { inContainer } from '../../activities/docker/instance-files.js';
import { runOneOff } from '../../activities/docker/one-off.js';
import { ids } from '../../workflows/model/ids.js';
import { sweepDockerObjects } from '../support/docker-sweep.js';
import { createTestStore, type TestStore } from '../support/store.js';

const namespace = 'pgcp-test-restore-flight';
const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const databaseId = `rsf-${suffix}`;
const instanceId = ids.instance(databaseId, 'n1', 'host-1');
const spec = { database_name: 'app', postgres_version: '17', nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;
const source = { source_database_id: databaseId, source_node_name: 'n1', source_database_name: 'app', repository: { type: 's3', s3_bucket: 'b', s3_region: 'eu-west-1' } } as RestoreConfigSpec;
const startsFile = `${inContainer.volume}/restore-starts`;
// the stand-in reads the configuration delivered to its tmpfs, as pgBackRest would, and ends as restoreScript does
const script = (taskId: string) => [
  `echo "$(date +%s.%N)" >> ${startsFile}`, 'sleep 6', `test -s ${inContainer.restoreConfig} && echo configured`,
  'echo "restore command end: completed successfully"', `touch ${inContainer.restoreStaged(taskId)}`,
].join('; ');

let db: TestStore;
let deps: HostDeps;
let image: string;

const target = (taskId: string): RestoreTarget => ({ databaseId, nodeName: 'n1', instanceId, taskId });
function attempt(n: number, taskId: string, stand?: string) {
  const env = new MockActivityEnvironment({ attempt: n, workflowExecution: { workflowId: taskId, runId: 'r' }, heartbeatTimeoutMs: 30_000, workflowNamespace: namespace } as never);
  // as restoreInstance: the task's markers looked for first (a run that ended well is not run again), then the run
  const run = () => env.run(async () => (await restoreMarked(deps, target(taskId), image))
    ? { code: 0, lines: ['skipped: already restored'] }
    : restoreVolume(deps, target(taskId), image, source, stand ?? script(taskId), null, spec)) as Promise<{ code: number; lines: string[] }>;
  return { env, run };
}
const starts = async () => {
  const r = await (new MockActivityEnvironment().run(runOneOff, docker, { name: `${instanceId}-count`, image, user: 'postgres', script: `cat ${startsFile} 2>/dev/null | wc -l`, labels: { [labels.namespace]: namespace }, hostConfig: { Binds: [`${ids.volume(instanceId)}:${inContainer.volume}`] } }) as ReturnType<typeof runOneOff>);
  return Number(r.lines.join('').trim());
};
const restoreContainer = () => inspectContainerOrNull(docker, ids.restoreContainer(instanceId));

beforeAll(async () => {
  const stack = inject('stack');
  await sweepDockerObjects(docker, namespace);
  db = await createTestStore(stack.storeUrl);
  deps = { docker, store: db.store, hostId: 'host-1', dataDir: `/tmp/${namespace}-${suffix}`, containerExtraHosts: [] } as unknown as HostDeps;
  image = (await requireBuiltImage(docker, '17', 'host-1')).image;
  await docker.createNetwork({ Name: ids.network(databaseId), Labels: { [labels.namespace]: namespace } });
});

afterAll(async () => {
  await sweepDockerObjects(docker, namespace);
  for (const name of [ids.restoreContainer(instanceId), ids.restoreMarkerContainer(instanceId), `${instanceId}-count`]) await removeContainer(docker, name);
  await docker.getVolume(ids.volume(instanceId)).remove().catch(() => undefined);
  await docker.getNetwork(ids.network(databaseId)).remove().catch(() => undefined);
  await db?.drop();
});

describe('the in-place restore\'s pgBackRest container', () => {
  it('a retry while the first run goes on joins it: one start, the retry gets its result', async () => {
    const first = attempt(1, 'task-a');
    const outcome = first.run().then(() => 'ran to its end', () => 'gave up');
    await new Promise((r) => setTimeout(r, 2500));
    // the first attempt's heartbeat timed out (e.g. Temporal was unreachable): it is told so and the step is retried
    first.env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
    await new Promise((r) => setTimeout(r, 200));
    expect((await restoreContainer())?.State.Running).toBe(true);
    const retry = await attempt(2, 'task-a').run();
    expect(retry.code).toBe(0);
    expect(retry.lines.join(' ')).toContain('restore command end: completed successfully');
    expect(retry.lines).toContain('configured'); // the configuration delivered to its tmpfs was there
    expect(await starts()).toBe(1);
    expect(await outcome).toBe('gave up');
    expect(await restoreContainer()).toBeNull();
  });

  it('an attempt given up leaves the run; a retry after it ended well starts nothing, one after it failed reads the failure', async () => {
    const givenUp = async (taskId: string, script?: string) => {
      const first = attempt(1, taskId, script);
      const running = first.run();
      await new Promise((r) => setTimeout(r, 2500));
      first.env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
      await expect(running).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 6000)); // the run ends meanwhile, its container kept for the retry
    };
    await givenUp('task-b');
    expect((await restoreContainer())?.State).toMatchObject({ Running: false, ExitCode: 0 });
    expect((await attempt(2, 'task-b').run()).lines).toEqual(['skipped: already restored']); // its marker
    expect(await restoreContainer()).toBeNull();

    await givenUp('task-e', `echo "$(date +%s.%N)" >> ${startsFile}; sleep 6; echo "ERROR: [055]: unable to load info file"; exit 55`);
    expect((await restoreContainer())?.State).toMatchObject({ Running: false, ExitCode: 55 });
    const retry = await attempt(2, 'task-e').run(); // the failed run's result, read from its container
    expect(retry).toEqual({ code: 55, lines: ['ERROR: [055]: unable to load info file'] });
    expect(await restoreContainer()).toBeNull();
    expect(await starts()).toBe(3); // task-a's, task-b's and task-e's: one each
  });

  it('another task\'s leftover container is not joined: it is replaced by a run of this task', async () => {
    const first = attempt(1, 'task-c');
    const running = first.run();
    await new Promise((r) => setTimeout(r, 2500));
    first.env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
    await expect(running).rejects.toThrow();
    const other = await attempt(1, 'task-d').run();
    expect(other.code).toBe(0);
    expect(await starts()).toBe(5);
  });
});
