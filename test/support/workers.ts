// Real Temporal workers for the tests' namespace, in the test process: the control-plane queue and host queues.
import { Client, Connection } from '@temporalio/client';
import { Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { connectWorker } from '../../worker/temporal.js';
import { createWorkers } from '../../worker/workers.js';

let runtimeInstalled = false;

export interface RunningWorkers { client: Client; stop: () => Promise<void> }

export async function startTestWorkers(hostIds: string[] = ['host-1']): Promise<RunningWorkers> {
  const stack = inject('stack');
  if (!runtimeInstalled) {
    Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn: (m) => console.warn(m), error: (m) => console.error(m) } });
    runtimeInstalled = true;
  }
  const connection = await connectWorker(stack.temporalAddress);
  const docker = createDocker();
  const workers: Worker[] = [];
  for (const [i, hostId] of hostIds.entries()) {
    workers.push(...(await createWorkers({ connection, namespace: stack.namespace, hostId, docker, roles: { controlPlane: i === 0, host: true } })));
  }
  const running = workers.map((w) => w.run());
  const client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }), namespace: stack.namespace });
  return {
    client,
    stop: async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await client.connection.close();
      await connection.close();
    },
  };
}
