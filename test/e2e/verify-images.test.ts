// The chain end to end: a workflow on the control-plane queue, a host activity on host.host-1 that runs a
// container from each built image and asks its Postgres for version(), the container removed, and the workflow's
// history readable through the Temporal web UI's server.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { createDocker, labels } from '../../activities/docker/client.js';
import { manifestMajors } from '../../activities/docker/images.js';
import { taskQueues } from '../../workflows/model/search-attributes.js';
import type { verifyImages } from '../../workflows/operations/verify-images.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { startTestWorkers, type RunningWorkers } from '../support/workers.js';

let workers: RunningWorkers;
let db: TestStore;
beforeAll(async () => {
  db = await createTestStore(inject('stack').storeUrl);
  workers = await startTestWorkers(db.store, ['host-1']);
});
afterAll(async () => {
  await workers?.stop();
  await db?.drop();
});

describe('verifyImages', () => {
  it('runs every built image on host-1, reads version() and leaves no container behind', async () => {
    const workflowId = uuidv7();
    const majors = manifestMajors();
    const result = await workers.client.workflow.execute<typeof verifyImages>('verifyImages', {
      workflowId,
      taskQueue: taskQueues.controlPlane,
      args: [{ hostId: 'host-1', majors }],
    });

    expect(result.results.map((r) => r.major)).toEqual(majors);
    for (const r of result.results) {
      expect(r.version).toMatch(new RegExp(`^PostgreSQL ${r.major}\\.\\d+`));
    }

    const docker = createDocker();
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.purpose}=verify-image`, `${labels.namespace}=${inject('stack').namespace}`] }) });
    expect(left).toEqual([]);

    // What the web UI shows for this workflow: its server answers the history under the workflow id.
    const { uiUrl, namespace } = inject('stack');
    const res = await fetch(`${uiUrl}/api/v1/namespaces/${namespace}/workflows/${workflowId}/history`);
    expect(res.status).toBe(200);
    const history = (await res.json()) as { history?: { events?: { eventType: string }[] }; events?: { eventType: string }[] };
    const events = history.history?.events ?? history.events ?? [];
    const types = events.map((e) => e.eventType);
    expect(types.filter((t) => /ACTIVITY_TASK_COMPLETED/.test(t))).toHaveLength(majors.length);
    expect(types.at(-1)).toMatch(/WORKFLOW_EXECUTION_COMPLETED/);
  });
});
