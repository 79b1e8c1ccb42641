// The SDK's REST client over an in-process Hono app standing in for the API (its `fetch` is the app's): which
// requests are retried, how refusals become PgcpApiError, and how waitForTask resumes a dropped log stream after
// the last entry it saw, so no entry is shown twice or lost.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { describe, expect, it } from 'vitest';
import { createPgcpClient, isPgcpError, PgcpApiError, PgcpTaskError } from '../../sdk/index.js';

const task = (status: string) => ({ scope: 'database', entity_id: 'db1', database_id: 'db1', task_id: 't1', created_at: '2026-01-01T00:00:00Z', type: 'create', status });
const entry = (i: number) => ({ id: `0000000${i}-0000-7000-8000-000000000000`, timestamp: `2026-01-01T00:00:0${i}Z`, message: `step ${i}` });

function clientFor(app: Hono, retries?: number) {
  return createPgcpClient({ baseUrl: 'http://api.test', retries, fetch: (req) => Promise.resolve(app.fetch(req)) });
}

describe('retries', () => {
  it('retries an idempotent GET on 503 and returns the answer that finally came', async () => {
    let calls = 0;
    const app = new Hono().get('/v1/databases', (c) => (++calls < 3 ? c.json({ name: 'server_error', message: 'busy' }, 503) : c.json({ databases: [] })));
    expect(await clientFor(app).listDatabases()).toEqual([]);
    expect(calls).toBe(3);
  });

  it('never retries a request that starts a task', async () => {
    let calls = 0;
    const app = new Hono().post('/v1/databases', (c) => { calls++; return c.json({ name: 'server_error', message: 'busy' }, 503); });
    const err = await clientFor(app).createDatabase({ spec: { database_name: 'x', nodes: [] } } as never).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toMatchObject({ errorName: 'server_error', status: 503 });
  });
});

it('a refusal is a PgcpApiError with the API\'s error name and message', async () => {
  const app = new Hono().get('/v1/databases/:id', (c) => c.json({ name: 'not_found', message: 'database not found' }, 404, { 'goa-error': 'not_found' }));
  const err = await clientFor(app).getDatabase('nope').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PgcpApiError);
  expect(isPgcpError(err, 'not_found')).toBe(true);
  expect(err).toMatchObject({ message: 'database not found', status: 404 });
});

describe('waitForTask', () => {
  /** A log that drops the connection after two entries the first time, then streams the rest after after_entry_id. */
  function flakyLog(final: 'completed' | 'failed') {
    const afters: (string | undefined)[] = [];
    const entries = [1, 2, 3, 4].map(entry);
    const app = new Hono()
      .get('/v1/databases/:db/tasks/:task/log', (c) => {
        const after = c.req.query('after_entry_id');
        afters.push(after);
        const rest = entries.filter((e) => !after || e.id > after);
        return streamSSE(c, async (s) => {
          for (const [i, { id, ...e }] of rest.entries()) {
            if (afters.length === 1 && i === 2) return; // dropped mid-stream, no end event
            await s.writeSSE({ event: 'entry', id, data: JSON.stringify(e) });
          }
          await s.writeSSE({ event: 'end', data: JSON.stringify({ task_status: final, last_entry_id: entries.at(-1)!.id }) });
        });
      })
      .get('/v1/databases/:db/tasks/:task', (c) => c.json({ ...task(final), ...(final === 'failed' ? { error: 'boom' } : {}) }));
    return { app, afters };
  }

  it('follows the log, resumes after the last entry seen, and returns the completed task', async () => {
    const { app, afters } = flakyLog('completed');
    const seen: string[] = [];
    const done = await clientFor(app).waitForTask('db1', 't1', { onEntry: (e) => seen.push(e.message) });
    expect(seen).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
    expect(afters).toEqual([undefined, entry(2).id]);
    expect(done.status).toBe('completed');
  });

  it('rejects with PgcpTaskError when the task failed', async () => {
    const err = await clientFor(flakyLog('failed').app).waitForTask('db1', 't1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgcpTaskError);
    expect((err as PgcpTaskError).task).toMatchObject({ status: 'failed', error: 'boom' });
  });

  it('stops when its signal aborts', async () => {
    const app = new Hono().get('/v1/databases/:db/tasks/:task/log', (c) => streamSSE(c, async (s) => { await s.sleep(60_000); }));
    const abort = new AbortController();
    const waiting = clientFor(app).waitForTask('db1', 't1', { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(waiting).rejects.toThrow(/abort/i);
  });
});
