// With tracing on, a task is one OpenTelemetry trace: the API request that started it, the workflow start and run,
// and a span for every activity the workflow ran (spans kept in memory here instead of sent to a collector).
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTracing } from '../../platform/tracing.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';

const exporter = new InMemorySpanExporter();
const tracing = createTracing('pgcp-test', new SimpleSpanProcessor(exporter));
const id = `tr-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(2);
let s: ApiStack;

beforeAll(async () => { s = await startApiStack(['host-1'], { tracing }); });
afterAll(async () => {
  await s?.stop();
  await tracing.shutdown();
});

async function finished(taskId: string) {
  return waitFor(`task ${taskId}`, async () => {
    const r = await s.call('GET', `/v1/databases/${id}/tasks/${taskId}`);
    return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : null;
  }, 300_000, 500);
}
const traceOf = (span: ReadableSpan) => exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === span.spanContext().traceId);

it('one trace per task: the API request, the workflow and each activity it ran', async () => {
  const created = await s.call('POST', '/v1/databases', {
    id, spec: { database_name: 'app', port, database_users: [{ username: 'admin', password: 'password', db_owner: true, attributes: ['LOGIN'] }], nodes: [{ name: 'n1', host_ids: ['host-1'] }] },
  });
  expect(created.status).toBe(200);
  const taskId = created.body.task.task_id as string;
  expect((await finished(taskId)).status).toBe('completed');
  // The workflow's own spans leave its sandbox through a sink, just after the run ends.
  await waitFor('the workflow span', async () => { await tracing.flush(); return exporter.getFinishedSpans().some((x) => x.name === 'RunWorkflow:createDatabase'); }, 15_000);

  const request = exporter.getFinishedSpans().find((x) => x.name === 'POST /v1/databases');
  expect(request).toBeDefined();
  const spans = traceOf(request!);
  const names = spans.map((x) => x.name);
  expect(names).toContain('StartWorkflow:createDatabase');
  expect(names).toContain('RunWorkflow:createDatabase');
  // Every activity the workflow ran (its history says which) has its span in the same trace.
  const history = await s.workers.client.workflow.getHandle(taskId).fetchHistory();
  const ran = new Set((history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []));
  expect(ran.size).toBeGreaterThan(5);
  const traced = new Set(names.filter((n) => n.startsWith('RunActivity:')).map((n) => n.slice('RunActivity:'.length)));
  expect([...ran].filter((a) => !traced.has(a))).toEqual([]);
  // The request span is the root: the workflow start is its child.
  const start = spans.find((x) => x.name === 'StartWorkflow:createDatabase')!;
  expect(start.parentSpanId).toBe(request!.spanContext().spanId);

  // Another task is another trace.
  const del = await s.call('DELETE', `/v1/databases/${id}`);
  expect((await finished(del.body.task.task_id)).status).toBe('completed');
  await waitFor('the delete workflow span', async () => { await tracing.flush(); return exporter.getFinishedSpans().some((x) => x.name === 'RunWorkflow:deleteDatabase'); }, 15_000);
  const delRequest = exporter.getFinishedSpans().find((x) => x.name === 'DELETE /v1/databases/:database_id')!;
  expect(delRequest.spanContext().traceId).not.toBe(request!.spanContext().traceId);
  expect(traceOf(delRequest).map((x) => x.name)).toContain('RunWorkflow:deleteDatabase');
});
