// The whole control plane in the test process: real store, real Temporal workers (with heartbeat and monitor) and
// the API app over them, with the cluster initialized.
import { inject } from 'vitest';
import type { Tracing } from '../../platform/tracing.js';
import { apiClient, type ApiCall } from './api-client.js';
import { createTestApp, type TestApp } from './app.js';
import { startTestWorkers, type RunningWorkers } from './workers.js';
import { waitFor } from './wait.js';

export interface ApiStack extends TestApp {
  workers: RunningWorkers;
  call: ApiCall;
  stop: () => Promise<void>;
}

export async function startApiStack(hostIds = ['host-1'], o: { containerExtraHosts?: string[]; metricsAddress?: string; tracing?: Tracing } = {}): Promise<ApiStack> {
  inject('stack');
  const placeholder = await createTestApp();
  const workers = await startTestWorkers(placeholder.db.store, hostIds, o);
  const t = await createTestApp({ temporal: workers.client, ...(o.tracing ? { tracer: o.tracing.tracer } : {}) }, placeholder.db);
  const call = apiClient(t.app);
  expect200(await call('GET', '/v1/cluster/init'));
  await waitFor('host-1 healthy with images', async () => {
    const r = await call('GET', '/v1/hosts/host-1');
    const h = r.body as { status: { state: string }; supported_pgedge_versions?: unknown[] };
    return h.status.state === 'healthy' && (h.supported_pgedge_versions?.length ?? 0) > 0;
  }, 30_000);
  return {
    ...t,
    workers,
    call,
    stop: async () => {
      await workers.stop();
      await t.db.drop();
    },
  };
}

function expect200(r: { status: number; text: string }) {
  if (r.status !== 200) throw new Error(`cluster init: ${r.status} ${r.text}`);
}
