// Replays every saved workflow history (test/replay/histories, recorded by e2e runs with PGCP_RECORD_HISTORIES=1)
// against the current workflow code, without any server: an edit that would send a running workflow down another
// path (a step added, removed or reordered, a changed timer) fails here in seconds, naming the history.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflows } from '../../worker/workers.js';
import { historiesDir, historyFromJSON } from '../support/histories.js';

const files = (await fs.readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort();
/** Every database user password in test/e2e (workflow inputs carry ids; activities read secrets from the store). */
const testPasswords = ['password', 'admin-pw', 'app-pw-5', 'app-secret-9', 'first-pw', 'second-pw'];
let workflowBundle: WorkflowBundleWithSourceMap;

/** The decoded data of every payload in a JSON history (inputs, results, failures' details, markers…). */
function payloadTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(payloadTexts);
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Record<string, unknown>;
  const own = 'metadata' in o && typeof o.data === 'string' ? [Buffer.from(o.data, 'base64').toString('utf8')] : [];
  return [...own, ...Object.values(o).flatMap(payloadTexts)];
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // not a line per replay worker's state change
  workflowBundle = await bundleWorkflows();
}, 120_000);

describe('saved workflow histories', () => {
  it('are there to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s holds no password of the e2e specs that recorded it, in clear or in a payload', async (file) => {
    const text = await fs.readFile(path.join(historiesDir, file), 'utf8');
    const seen = [text, ...payloadTexts(JSON.parse(text))].join('\n');
    expect(testPasswords.filter((p) => seen.includes(p))).toEqual([]);
  });

  it.each(files)('%s replays against the current workflows', async (file) => {
    const history = historyFromJSON(JSON.parse(await fs.readFile(path.join(historiesDir, file), 'utf8')));
    try {
      await Worker.runReplayHistory({ workflowBundle, replayName: file }, history, file);
    } catch (err) {
      const what = err instanceof DeterminismViolationError ? 'is not deterministic against the current workflow code' : 'failed to replay';
      throw new Error(`${file} ${what}: ${(err as Error).message}`, { cause: err });
    }
  });
});
