// Connections to Temporal and the project's namespace (30-day retention, task search attributes), shared by the
// API, the workers, the launcher and the tests.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, Client, type ClientPlugin } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import protos from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time.js';
import { taskAttributes } from '../workflows/model/search-attributes.js';
import type { TemporalTlsConfig } from './config.js';
import { dataConverter } from './payload-codec.js';

export const retentionDays = 30;

/**
 * TLS to Temporal's frontend (PGCP_TEMPORAL_CA_CERT …): its certificate must chain to the CA; a client certificate
 * is presented when configured. Files are read at each connect, so a re-issued certificate is used by the next one.
 */
export function temporalTls(tls: TemporalTlsConfig | null | undefined) {
  if (!tls) return {};
  return {
    tls: {
      serverRootCACertificate: readFileSync(tls.caCert),
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.clientCert && tls.clientKey ? { clientCertPair: { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) } } : {}),
    },
  };
}

/**
 * secretKey: the control plane's key (platform/secret-key.ts); every payload is encrypted with it (payload-codec.ts).
 * plugins: e.g. tracing's (platform/tracing.ts), so a started workflow joins the caller's trace.
 * tls: PGCP_TEMPORAL_CA_CERT … (temporalTls).
 */
export async function connectClient(address: string, namespace: string, o: { secretKey: Buffer; plugins?: ClientPlugin[]; tls?: TemporalTlsConfig | null }): Promise<Client> {
  const connection = await Connection.connect({ address, ...temporalTls(o.tls) });
  return new Client({ connection, namespace, dataConverter: dataConverter(o.secretKey), ...(o.plugins ? { plugins: o.plugins } : {}) });
}

export function connectWorker(address: string, tls?: TemporalTlsConfig | null): Promise<NativeConnection> {
  return NativeConnection.connect({ address, ...temporalTls(tls) });
}


function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 5; // gRPC NOT_FOUND
}

/** Creates the namespace (or fixes its retention) and registers the task search attributes; waits until usable. */
export async function ensureNamespace(address: string, namespace: string, tls?: TemporalTlsConfig | null): Promise<void> {
  const connection = await Connection.connect({ address, ...temporalTls(tls) });
  try {
    const retention = msToTs(retentionDays * 24 * 3600 * 1000);
    const ws = connection.workflowService;
    try {
      const ns = await ws.describeNamespace({ namespace });
      if (Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0) !== retentionDays * 24 * 3600) {
        await ws.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: retention } });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await ws.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
    }
    const wanted = Object.values(taskAttributes).map((k) => k.name);
    const keyword = protos.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    for (let attempt = 0; ; attempt++) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = wanted.filter((n) => !(customAttributes && n in customAttributes));
        if (missing.length === 0) break;
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((n) => [n, keyword])),
        });
      } catch (err) {
        if (attempt >= 40) throw err; // a fresh namespace takes a few seconds to reach every service
        await sleep(500);
      }
    }
  } finally {
    await connection.close();
  }
}
