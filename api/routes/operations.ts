// Node and instance operations: switchover, failover, restart, stop-instance, start-instance. Each checks what the
// reference checks, in its order, and starts a task; the work happens in the task's workflow. Where the reference
// answers 500 for a plain client error (not stoppable, already in progress, unknown instance), these answer the
// status the reference intended (400 / 409 / 404).
import { createRoute, z } from '@hono/zod-openapi';
import { modifiableStates, type DatabaseRecord, type DatabaseState } from '../../store/databases.js';
import { notModifiable, requireDatabase, requireModifiable } from '../database-guards.js';
import { startLockedTask, type Refusal } from '../database-lock.js';
import { databaseView } from '../database-view.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { createRouter } from '../router.js';
import { errorResponses, IdentifierSchema, jsonBody, jsonResponse } from '../schemas/common.js';
import { QueryBool, TaskSchema, type Instance } from '../schemas/database.js';
import { startDatabaseTask, type StartableTaskType, type StartTaskInput } from '../tasks.js';
import type { Schedule } from '../../workflows/task/task-bracket.js';
import { backupOptionKeys, nodeBackupConfig, validateBackupOptions } from '../../workflows/model/backup.js';
import { optionsTextIssues } from '../../workflows/model/validate-text.js';

const InstanceIdSchema = z.string().min(1).max(63);
const NodeParams = z.object({ database_id: IdentifierSchema, node_name: z.string().min(1) });
const InstanceParams = z.object({ database_id: IdentifierSchema, instance_id: InstanceIdSchema });
const ScheduledAt = z.string().datetime({ offset: true }).optional().openapi({ description: 'RFC 3339; the task waits until then (cancel it to call the operation off)' });
const SwitchoverBody = z.object({ candidate_instance_id: InstanceIdSchema.optional(), scheduled_at: ScheduledAt });
const FailoverBody = z.object({ candidate_instance_id: InstanceIdSchema.optional(), skip_validation: z.boolean().optional() });
const RestartBody = z.object({ scheduled_at: ScheduledAt });
const BackupBody = z.object({
  type: z.enum(['full', 'diff', 'incr']),
  annotations: z.record(z.string(), z.string()).optional(),
  backup_options: z.record(z.string(), z.string()).optional().openapi({ description: `pgBackRest options as --key=value; allowed keys: ${backupOptionKeys.join(', ')}` }),
});
const TaskResponse = jsonResponse(z.object({ task: TaskSchema }), 'The task');
const errors = { 400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409] };
const force = { query: z.object({ force: QueryBool.optional() }) };

const responses = { ...TaskResponse, ...errors };
const tags = ['Database'];
const switchoverRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/nodes/{node_name}/switchover', operationId: 'switchover-database-node', tags, responses,
  request: { params: NodeParams, ...jsonBody(SwitchoverBody) },
});
const failoverRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/nodes/{node_name}/failover', operationId: 'failover-database-node', tags, responses,
  request: { params: NodeParams, ...jsonBody(FailoverBody) },
});
const backupRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/nodes/{node_name}/backups', operationId: 'backup-database-node', tags, responses,
  request: { params: NodeParams, ...force, ...jsonBody(BackupBody) },
});
const restartRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/instances/{instance_id}/restart', operationId: 'restart-instance', tags, responses,
  request: { params: InstanceParams, ...jsonBody(RestartBody) },
});
const stopRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/instances/{instance_id}/stop-instance', operationId: 'stop-instance', tags, responses,
  request: { params: InstanceParams, ...force },
});
const startRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/instances/{instance_id}/start-instance', operationId: 'start-instance', tags, responses,
  request: { params: InstanceParams, ...force },
});

const invalid = (message: string) => new ApiError('invalid_input', message);

/** How far ahead an operation may be scheduled: a forgotten one holds the database's lock (other changes answer 409) until then. */
export const maxScheduleAheadDays = 30;

/** `scheduled_at` for the workflow's wait; refused unless in the future and at most maxScheduleAheadDays ahead. */
function schedule(scheduledAt: string | undefined, now: Date): Schedule | undefined {
  if (scheduledAt === undefined) return undefined;
  const atMs = Date.parse(scheduledAt);
  if (atMs <= now.getTime()) throw invalid('scheduled_at must be in the future');
  if (atMs > now.getTime() + maxScheduleAheadDays * 86_400_000) throw invalid(`scheduled_at must be at most ${maxScheduleAheadDays} days ahead`);
  return { scheduledAt, atMs };
}

export function operationRoutes(deps: AppDeps) {
  const now = () => deps.now?.() ?? new Date();

  async function load(databaseId: string): Promise<{ db: DatabaseRecord; instances: Instance[] }> {
    const db = await requireDatabase(deps.store, databaseId);
    return { db, instances: (await databaseView(deps, db, false)).instances ?? [] };
  }
  const findInstance = (instances: Instance[], id: string) => {
    const i = instances.find((x) => x.id === id);
    if (!i) throw new ApiError('not_found', 'instance not found');
    return i;
  };
  const lockDeps = { store: deps.store, temporal: () => requireTemporal(deps) };
  /**
   * Starts the task holding the database's lock (api/database-lock.ts): taken atomically, so this operation and any
   * other mutating task of the database (an update, a restore, another switchover) never both start: one gets 409.
   */
  const start = async <T extends StartableTaskType>(t: StartTaskInput<T>, from: DatabaseState[] | 'any', refuse?: Refusal) =>
    ({ task: (await startLockedTask(lockDeps, { task: t, from, refuse })).task });
  /**
   * A scheduled switchover or restart starts without the lock: it takes it when its time comes (and fails then, naming
   * the holder, if another task has it), so waiting days for its time does not refuse every other change meanwhile.
   */
  const startAt = async <T extends StartableTaskType>(when: Schedule | undefined, t: StartTaskInput<T>, from: DatabaseState[] | 'any', refuse?: Refusal) =>
    when ? { task: await startDatabaseTask(requireTemporal(deps), t) } : start(t, from, refuse);
  /** A switchover or failover meeting another one: the reference's "already in progress". */
  const nodeRefusal = (kind: string, databaseId: string, nodeName: string): Refusal => (lock) =>
    lock && (lock.type === 'switchover' || lock.type === 'failover')
      ? new ApiError('operation_already_in_progress', `${kind} already in progress for database ${databaseId} node ${nodeName}`)
      : notModifiable();

  /** The checks switchover and failover share; returns the host to run on and the candidate. */
  async function nodeOperation(kind: 'switchover' | 'failover', databaseId: string, nodeName: string, candidateId: string | undefined) {
    const { db, instances } = await load(databaseId);
    const mine = instances.filter((i) => i.node_name === nodeName);
    if (!db.spec.nodes.some((n) => n.name === nodeName)) throw invalid(`node ${nodeName} not found`);
    const primary = mine.find((i) => i.state === 'available' && i.postgres?.role === 'primary');
    // A failover is for a node whose primary is gone: it needs a running member, not a primary.
    const runner = kind === 'switchover' ? primary : mine.find((i) => i.id === candidateId && i.state === 'available') ?? mine.find((i) => i.state === 'available');
    if (!runner) throw new ApiError('not_found', kind === 'switchover' ? 'no primary instance found for the given node' : 'no available instance found for the given node');
    requireModifiable(db);
    if (candidateId) {
      const c = findInstance(instances, candidateId);
      if (c.node_name !== nodeName) throw invalid(`candidate instance ${candidateId} does not belong to node ${nodeName}`);
      if (c.state !== 'available') throw invalid(`candidate instance ${candidateId} is not available, it is in ${c.state} state`);
    }
    return { hostId: runner.host_id };
  }

  async function instanceOperation(databaseId: string, instanceId: string, allowed: string[], verb: string, o: { force?: boolean; checkDatabase: boolean }) {
    const { db, instances } = await load(databaseId);
    if (o.checkDatabase && !o.force) requireModifiable(db);
    const inst = findInstance(instances, instanceId);
    if (!allowed.includes(inst.state)) throw invalid(`instance ${instanceId} is not ${verb}, it is in ${inst.state} state`);
    return inst;
  }

  return createRouter()
    .openapi(switchoverRoute, async (c) => {
      const { database_id, node_name } = c.req.valid('param');
      const req = c.req.valid('json');
      const when = schedule(req.scheduled_at, now());
      const { hostId } = await nodeOperation('switchover', database_id, node_name, req.candidate_instance_id);
      return c.json(await startAt(when, {
        type: 'switchover', nodeName: node_name, instanceId: req.candidate_instance_id,
        input: { databaseId: database_id, nodeName: node_name, hostId, candidate: req.candidate_instance_id, schedule: when },
      }, modifiableStates, nodeRefusal('switchover', database_id, node_name)), 200);
    })
    .openapi(failoverRoute, async (c) => {
      const { database_id, node_name } = c.req.valid('param');
      const req = c.req.valid('json');
      const { hostId } = await nodeOperation('failover', database_id, node_name, req.candidate_instance_id);
      return c.json(await start({
        type: 'failover', nodeName: node_name, instanceId: req.candidate_instance_id,
        input: { databaseId: database_id, nodeName: node_name, hostId, candidate: req.candidate_instance_id, skipValidation: req.skip_validation ?? false },
      }, modifiableStates, nodeRefusal('failover', database_id, node_name)), 200);
    })
    .openapi(backupRoute, async (c) => {
      const { database_id, node_name } = c.req.valid('param');
      const req = c.req.valid('json');
      const issues: { path: string; message: string }[] = [];
      validateBackupOptions(req.backup_options, 'backup_options', issues);
      optionsTextIssues(req.annotations, 'annotations', issues);
      if (issues[0]) throw invalid(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
      const { db, instances } = await load(database_id);
      if (!db.spec.nodes.some((n) => n.name === node_name)) throw invalid(`node ${node_name} not found`);
      // The spec's answer first: it does not change with the monitor's next report, as the primary's state does.
      if (!nodeBackupConfig(db.spec, node_name)) throw invalid('backups are not configured for this database node');
      const primary = instances.find((i) => i.node_name === node_name && i.postgres?.role === 'primary');
      if (!primary || primary.state !== 'available') throw invalid(`node ${node_name} is in an unsupported state (${primary?.state ?? 'no primary'})`);
      const f = c.req.valid('query').force;
      if (!f) requireModifiable(db);
      return c.json(await start({
        type: 'node_backup', nodeName: node_name, instanceId: primary.id,
        input: { databaseId: database_id, nodeName: node_name, hostId: primary.host_id, type: req.type, annotations: req.annotations, options: req.backup_options },
      }, f ? 'any' : modifiableStates), 200);
    })
    .openapi(restartRoute, async (c) => {
      const { database_id, instance_id } = c.req.valid('param');
      const req = c.req.valid('json');
      const when = schedule(req.scheduled_at, now());
      const inst = await instanceOperation(database_id, instance_id, ['available'], 'restartable', { checkDatabase: false });
      return c.json(await startAt(when, {
        type: 'restart_instance', instanceId: instance_id,
        input: { databaseId: database_id, instanceId: instance_id, hostId: inst.host_id, schedule: when },
      }, 'any'), 200);
    })
    .openapi(stopRoute, async (c) => {
      const { database_id, instance_id } = c.req.valid('param');
      const { force: f } = c.req.valid('query');
      const inst = await instanceOperation(database_id, instance_id, ['available', 'degraded'], 'stoppable', { force: f, checkDatabase: true });
      return c.json(await start({ type: 'stop_instance', instanceId: instance_id, hostId: inst.host_id, input: { databaseId: database_id, instanceId: instance_id, hostId: inst.host_id } }, f ? 'any' : modifiableStates), 200);
    })
    .openapi(startRoute, async (c) => {
      const { database_id, instance_id } = c.req.valid('param');
      const { force: f } = c.req.valid('query');
      const inst = await instanceOperation(database_id, instance_id, ['stopped', 'unknown'], 'startable', { force: f, checkDatabase: true });
      return c.json(await start({ type: 'start_instance', instanceId: instance_id, hostId: inst.host_id, input: { databaseId: database_id, instanceId: instance_id, hostId: inst.host_id } }, f ? 'any' : modifiableStates), 200);
    });
}
