// Starts what the tests need — Temporal, etcd, the store — or reuses a running stack (e.g. `npm start`). Tests use
// their own Temporal namespace and store database, so a running control plane never picks up their work. Every
// Docker object the tests' workflows create carries the test namespace as a label and is swept at the end.
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { createDocker } from '../../activities/docker/client.js';
import { projectRoot, secretFiles } from '../../platform/config.js';
import { etcdCaFile, stackSecretsDir, startStack, stopStack, storeUrl, stackPorts } from '../../scripts/stack.js';
import { sweepDockerObjects } from './docker-sweep.js';
import { connectClient } from '../../platform/temporal.js';
import { testSecretKey } from './secret-key.js';

export const testNamespace = 'pgcp-test';
/** Orchestration tests run stub workers on the same queue names: a namespace of their own keeps them apart. */
export const workflowTestNamespace = 'pgcp-test-workflow';
/** The fuzz suite's API starts its tasks here, where no worker ever polls: fuzzed creates never build anything. */
export const fuzzTestNamespace = 'pgcp-test-fuzz';

declare module 'vitest' {
  export interface ProvidedContext {
    /** storeUrl carries the store's password; etcdPasswordFile holds etcd's root password (0600); etcdCaFile: the CA of its TLS certificate. */
    stack: { temporalAddress: string; namespace: string; storeUrl: string; etcdUrl: string; etcdPasswordFile: string; etcdCaFile: string; uiUrl: string; ownsTemporal: boolean };
  }
}

/** Workflows of an earlier, interrupted test run would be picked up by this run's workers: end them first. */
async function terminateLeftovers(): Promise<void> {
  const client = await connectClient(`127.0.0.1:${stackPorts.temporal}`, testNamespace, { secretKey: testSecretKey() });
  try {
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('left over from an interrupted test run').catch(() => undefined);
    }
  } finally {
    await client.connection.close();
  }
}

export default async function setup(project: TestProject) {
  const testDataDir = path.join(projectRoot, '.data', 'test-stack');
  const services = await startStack({
    dataDir: testDataDir,
    reuse: true,
    namespaces: [testNamespace, workflowTestNamespace, fuzzTestNamespace],
    storeDatabases: ['pgcp_test'],
  });
  const secretsDir = stackSecretsDir(testDataDir);
  await terminateLeftovers();
  await sweepDockerObjects(createDocker(), testNamespace);
  project.provide('stack', {
    temporalAddress: `127.0.0.1:${stackPorts.temporal}`,
    namespace: testNamespace,
    storeUrl: storeUrl('pgcp_test', secretsDir),
    etcdUrl: `https://127.0.0.1:${stackPorts.etcd}`,
    etcdPasswordFile: secretFiles(secretsDir).etcdRoot,
    etcdCaFile: etcdCaFile(secretsDir),
    uiUrl: `http://127.0.0.1:${stackPorts.temporalUi}`,
    // this run started the Temporal server (supervised: a SIGKILLed one comes back), rather than reusing one
    ownsTemporal: services.some((s) => s.name === 'temporal' && !s.reused),
  });
  return async () => {
    await sweepDockerObjects(createDocker(), testNamespace);
    await stopStack(services);
  };
}
