// One-shot: the Temporal namespace of the control plane (retention, task search attributes) on the Temporal server
// at PGCP_TEMPORAL_ADDRESS. The production stack runs it once the server answers; `npm start` does the same in
// scripts/stack.ts. Waits up to two minutes for the server, then fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../platform/config.js';
import { ensureNamespace } from '../platform/temporal.js';

const config = loadConfig();
const deadline = Date.now() + 120_000;
for (;;) {
  try {
    await ensureNamespace(config.temporal.address, config.temporal.namespace, config.temporal.tls);
    console.log(`namespace ${config.temporal.namespace} ready on ${config.temporal.address}`);
    break;
  } catch (err) {
    if (Date.now() > deadline) throw err;
    console.log(`waiting for Temporal at ${config.temporal.address}: ${err instanceof Error ? err.message : String(err)}`);
    await sleep(2000);
  }
}
