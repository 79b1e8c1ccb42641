// What the crash-safety tests share: a process stack of one host (its worker can be SIGKILLed and started again)
// and the calls they make against one database whose nodes listen on 127.0.0.1. Made at a file's top level and
// started in its beforeAll, so the file can destructure the calls once.
import type { ApiResponse } from './api-client.js';
import { startProcessStack, type ProcessStack } from './process-stack.js';
import { nodeConnection, query } from './sql.js';
import { expectTaskCompleted, forceDeleteDatabase } from './tasks.js';

export interface CrashHarness {
  start: () => Promise<void>;
  call: (method: string, url: string, body?: unknown) => Promise<ApiResponse>;
  /** A query on node `n` of the database, as its admin user. */
  sql: (n: string, text: string) => Promise<any[]>;
  /** Until the task ends; it must have completed. */
  completed: (taskId: string) => Promise<void>;
  /** SIGKILLs the worker process and starts a new one. */
  restartWorker: () => Promise<void>;
  /** Deletes the database, then stops the workers and drops the store. */
  stop: () => Promise<void>;
}

export function crashHarness(databaseId: string, port: (node: string) => number): CrashHarness {
  let stack: ProcessStack | undefined;
  const started = () => {
    if (!stack) throw new Error('crash harness not started');
    return stack;
  };
  const call: CrashHarness['call'] = (method, url, body) => started().call(method, url, body);
  return {
    start: async () => { stack = await startProcessStack(); },
    call,
    sql: (n, text) => query(nodeConnection(port(n), { password: 'password' }), text),
    completed: async (taskId) => { await expectTaskCompleted(call, databaseId, taskId, { timeoutMs: 600_000 }); },
    restartWorker: () => started().restartWorker(),
    stop: async () => {
      if (!stack) return;
      await forceDeleteDatabase(call, databaseId).catch(() => undefined);
      await stack.stop();
    },
  };
}
