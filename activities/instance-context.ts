// Loads what an activity needs about one instance from the store: its plan, the spec and the secrets. Activities
// receive ids only, so workflow histories stay small and free of secrets.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabaseSpec } from '../api/schemas/database-spec.js';
import { planInstances, type InstancePlan } from '../workflows/model/instances.js';
import { manifestEntry, type ManifestEntry } from './docker/images.js';
import { FailureType } from './errors.js';
import { getDatabaseSecrets, type DatabaseSecrets } from '../store/databases.js';
import { loadTopology, type Topology } from './addresses.js';
import type { Store } from '../store/db.js';

/** topology: the hosts' addresses and engines, for instance addresses (activities/addresses.ts). */
export interface DatabaseContext { databaseId: string; spec: DatabaseSpec; secrets: DatabaseSecrets; instances: InstancePlan[]; topology: Topology }

export async function loadDatabase(store: Store, databaseId: string): Promise<DatabaseContext> {
  const row = await getDatabaseSecrets(store, databaseId);
  if (!row) throw ApplicationFailure.nonRetryable(`database ${databaseId} not found`, FailureType.notFound);
  return { databaseId, spec: row.spec, secrets: row.secrets, instances: planInstances(databaseId, row.spec), topology: await loadTopology(store) };
}

export function findInstance(db: DatabaseContext, instanceId: string): InstancePlan {
  const plan = db.instances.find((i) => i.instanceId === instanceId);
  if (!plan) throw ApplicationFailure.nonRetryable(`instance ${instanceId} is not in the spec of ${db.databaseId}`, FailureType.notFound);
  return plan;
}

export function imageFor(plan: InstancePlan): ManifestEntry {
  const entry = manifestEntry(plan.postgresMajor);
  if (!entry) throw ApplicationFailure.nonRetryable(`no image for Postgres ${plan.postgresMajor} in the version manifest`, FailureType.imageMissing);
  return entry;
}

/** The Temporal namespace of the running activity: labels every Docker object it makes. */
export function activityNamespace(): string {
  const info = Context.current().info;
  return info.workflowNamespace ?? info.namespace;
}


/** Polls until `check` returns a value, heartbeating; gives up after timeoutMs with the last reason. */
export async function pollUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | { waiting: string }>): Promise<T> {
  const ctx = Context.current();
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const r = await check();
    if (!(r !== null && typeof r === 'object' && 'waiting' in (r as object))) return r as T;
    last = (r as { waiting: string }).waiting;
    ctx.heartbeat(last);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await Promise.race([sleep(500), ctx.cancelled]);
  }
}
