// OpenTelemetry tracing, off unless PGCP_OTLP_TRACES_URL is set: one trace per task, from the API request through
// the workflow (and its child workflows) to each activity. Temporal's OpenTelemetryPlugin carries the context: the
// API's client starts the workflow inside the request's span, the workflow's spans leave the sandbox through a sink,
// and each activity runs in a span of the workflow's trace. The API, the workers and the tests each build one.
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  /** For Client({ plugins }), Worker.create({ plugins }) and bundleWorkflowCode({ plugins }). */
  plugin: OpenTelemetryPlugin;
  tracer: Tracer;
  /** Sends what is still buffered. */
  flush: () => Promise<void>;
  shutdown: () => Promise<void>;
}

/** Spans to an OTLP/HTTP collector (e.g. http://127.0.0.1:4318/v1/traces), batched. */
export const otlpSpanProcessor = (url: string): SpanProcessor => new BatchSpanProcessor(new OTLPTraceExporter({ url }));

/** Registers the process's global tracer provider (a process has one) and the plugin over it. */
export function createTracing(serviceName: string, spanProcessor: SpanProcessor): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global provider, async context, and W3C trace-context propagation (what carries the trace in Temporal headers).
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  const tracer = provider.getTracer('pgcp');
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor, tracer }),
    tracer,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
