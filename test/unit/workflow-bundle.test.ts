import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../worker/workers.js';

describe('workflow bundle', () => {
  it('bundles every workflow without pulling a Node or I/O module into the sandbox', async () => {
    const warnings: string[] = [];
    const log = (m: string) => warnings.push(m);
    const bundle = await bundleWorkflowCode({
      workflowsPath,
      logger: { trace() {}, debug() {}, info() {}, log() {}, warn: log, error: log },
    });
    expect(bundle.code).toContain('verifyImages');
    expect(warnings).toEqual([]);
  });
});
