// runBackup against real Docker and a real store, in a container of the real image where `pgbackrest` is a stand-in
// script (a real backup of a silent size would take minutes): it runs 8 s printing nothing, as pgBackRest's copy
// phase does at the info log level, and records each start. The step heartbeats all along; a retry while the first
// run goes on joins it; a retry after the first run finished (its answer lost) finds the backup the task took.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DatabaseSpec } from '../../api/schemas/database-spec.js';
import { backupActivities } from '../../activities/backup/backups.js';
import type { HostDeps } from '../../activities/deps.js';
import { createDocker, labels } from '../../activities/docker/client.js';
import { execIn } from '../../activities/docker/exec.js';
import { requireBuiltImage } from '../../activities/docker/images.js';
import { insertDatabase, newDatabaseSecrets } from '../../store/databases.js';
import { ids } from '../../workflows/model/ids.js';
import { sweepDockerObjects } from '../support/docker-sweep.js';
import { stackEtcd } from '../support/etcd.js';
import { createTestStore, type TestStore } from '../support/store.js';

const namespace = 'pgcp-test-backup-flight';
const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const databaseId = `bkf-${suffix}`;
const instanceId = ids.instance(databaseId, 'n1', 'host-1');
const spec = { database_name: 'app', postgres_version: '17', nodes: [{ name: 'n1', host_ids: ['host-1'] }] } as DatabaseSpec;
const request = { databaseId, nodeName: 'n1', instanceId, type: 'full' as const };

/** The stand-in: `backup` sleeps 8 s silently and remembers its task annotation; `info` lists that backup. */
const fakePgbackrest = `#!/bin/sh
cmd=""; for a in "$@"; do case "$a" in -*) ;; *) [ -z "$cmd" ] && cmd="$a";; esac; done
case "$cmd" in
  backup)
    echo started >> /tmp/backup-starts
    sleep 8
    for a in "$@"; do case "$a" in --annotation=pgcp-task-id=*) echo "\${a#--annotation=pgcp-task-id=}" > /tmp/backup-task;; esac; done
    echo "backup command end: completed successfully";;
  info)
    t=$(cat /tmp/backup-task 2>/dev/null)
    if [ -n "$t" ]; then echo "[{\\"backup\\":[{\\"label\\":\\"F1\\",\\"annotation\\":{\\"pgcp-task-id\\":\\"$t\\"}}]}]"; else echo '[{"backup":[]}]'; fi;;
esac
`;

let db: TestStore;
let activities: ReturnType<typeof backupActivities>;
const starts = async () => (await execIn(docker, instanceId, ['sh', '-c', 'cat /tmp/backup-starts 2>/dev/null | wc -l'])).lines.join('').trim();

function attempt(n: number, taskId: string) {
  const env = new MockActivityEnvironment({ attempt: n, workflowExecution: { workflowId: taskId, runId: 'r' }, heartbeatTimeoutMs: 30_000 } as never);
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(Date.now()));
  return { run: () => env.run(activities.runBackup, request) as Promise<{ lines: string[] }>, beats };
}

beforeAll(async () => {
  const stack = inject('stack');
  await sweepDockerObjects(docker, namespace);
  db = await createTestStore(stack.storeUrl);
  await insertDatabase(db.store, { id: databaseId, tenantId: null, spec, secrets: newDatabaseSecrets(), state: 'available' });
  const deps = { docker, store: db.store, hostId: 'host-1', etcd: stackEtcd() } as unknown as HostDeps;
  activities = backupActivities(deps);
  const image = (await requireBuiltImage(docker, '17', 'host-1')).image;
  const c = await docker.createContainer({ name: instanceId, Image: image, Entrypoint: ['sleep', 'infinity'], Labels: { [labels.namespace]: namespace } });
  await c.start();
  const install = await execIn(docker, instanceId, ['sh', '-c', `cat > /usr/local/bin/pgbackrest <<'EOF'\n${fakePgbackrest}EOF\nchmod 755 /usr/local/bin/pgbackrest`], { user: 'root' });
  expect(install.exitCode, install.lines.join('\n')).toBe(0);
});

afterAll(async () => {
  await sweepDockerObjects(docker, namespace);
  await db?.drop();
});

describe('runBackup', () => {
  it('heartbeats while pgBackRest prints nothing; a retry meanwhile joins the run; one after it ended takes no second backup', async () => {
    const first = attempt(1, 'task-a');
    const running = first.run();
    await new Promise((r) => setTimeout(r, 2000));
    const retry = attempt(2, 'task-a'); // e.g. the first attempt's heartbeat was lost
    const [a, b] = await Promise.all([running, retry.run()]);
    expect(a.lines.join(' ')).toContain('completed successfully');
    expect(b.lines.join(' ')).toContain('joined the backup an earlier attempt started');
    expect(await starts()).toBe('1');
    expect(first.beats.length, 'heartbeats during 8 silent seconds').toBeGreaterThanOrEqual(1);
    const gaps = first.beats.slice(1).map((t, i) => t - first.beats[i]!);
    expect(Math.max(0, ...gaps)).toBeLessThan(7000);

    const late = attempt(3, 'task-a'); // the first run's answer was lost after it ended
    expect((await late.run()).lines.join(' ')).toContain('backup F1 of this task completed in an earlier attempt');
    expect(await starts()).toBe('1');
  });
});
