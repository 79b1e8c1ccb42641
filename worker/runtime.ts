// The Temporal runtime of a worker process, installed once: Core's log records go to pino, and, when an address is
// given (PGCP_WORKER_METRICS_ADDRESS), Core serves the worker's and the SDK's metrics (task slots, poll latencies,
// activity and workflow task counts, …) in Prometheus format at http://<address>/metrics.
import { Runtime } from '@temporalio/worker';
import type { Logger } from '../platform/logger.js';

/** Core's Prometheus exporter: counters end in _total, durations in seconds with the unit in the name. */
export const prometheusTelemetry = (bindAddress: string) => ({
  metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
});

export function installRuntime(log: Logger, o: { metricsAddress?: string; shutdownSignals?: NodeJS.Signals[] } = {}): void {
  Runtime.install({
    logger: {
      log: (level, message, meta) => log[level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : level === 'WARN' ? 'warn' : level === 'ERROR' ? 'error' : 'info'](meta ?? {}, message),
      trace: (m, meta) => log.trace(meta ?? {}, m),
      debug: (m, meta) => log.debug(meta ?? {}, m),
      info: (m, meta) => log.info(meta ?? {}, m),
      warn: (m, meta) => log.warn(meta ?? {}, m),
      error: (m, meta) => log.error(meta ?? {}, m),
    },
    ...(o.metricsAddress
      ? { telemetryOptions: prometheusTelemetry(o.metricsAddress) }
      : {}),
    ...(o.shutdownSignals ? { shutdownSignals: o.shutdownSignals } : {}),
  });
}
