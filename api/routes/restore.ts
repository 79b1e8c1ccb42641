// POST /v1/databases/{id}/restore: the database goes `restoring`, a `restore` task runs one `node_restore` child
// per target node (their ids are made here, so the answer lists them at once), then `available`.
import { createRoute, z } from '@hono/zod-openapi';
import { uuidv7 } from 'uuidv7';
import { modifiableStates, setRestoreSecrets } from '../../store/databases.js';
import { keepSecrets, repositorySecrets, specRepositories } from '../../workflows/model/backup-repository.js';
import { redactRestoreConfig } from '../../workflows/model/redact.js';
import { validateRestoreConfig } from '../../workflows/model/backup.js';
import { requireDatabase } from '../database-guards.js';
import { startLockedTask } from '../database-lock.js';
import { repositoryAdmissionIssues } from '../repository-admission.js';
import { heldByExtraVolumes } from '../../workflows/model/orchestrator-opts.js';
import { databaseView } from '../database-view.js';
import { requireTemporal, type AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { createRouter } from '../router.js';
import { errorResponses, IdentifierSchema, jsonBody, jsonResponse } from '../schemas/common.js';
import { RestoreDatabaseRequestSchema } from '../schemas/database-spec.js';
import { DatabaseSchema, QueryBool, TaskSchema } from '../schemas/database.js';
import { rfc3339 } from '../render/time.js';
import type { Task } from '../tasks.js';

const restoreRoute = createRoute({
  method: 'post', path: '/v1/databases/{database_id}/restore', operationId: 'restore-database', tags: ['Database'],
  request: {
    params: z.object({ database_id: IdentifierSchema }),
    query: z.object({ force: QueryBool.optional() }),
    ...jsonBody(RestoreDatabaseRequestSchema),
  },
  responses: {
    ...jsonResponse(z.object({ task: TaskSchema, node_tasks: z.array(TaskSchema), database: DatabaseSchema }), 'The restore task, its node tasks and the database'),
    400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409],
  },
});

export function restoreRoutes(deps: AppDeps) {
  return createRouter().openapi(restoreRoute, async (c) => {
    const id = c.req.valid('param').database_id;
    const req = c.req.valid('json');
    const before = await requireDatabase(deps.store, id);
    const names = before.spec.nodes.map((n) => n.name);
    const targets = req.target_nodes ?? names;
    const unknown = targets.filter((t) => !names.includes(t));
    if (unknown.length > 0) throw new ApiError('invalid_input', `node not in db spec: [${unknown.join(' ')}]`);
    // Keys left out are those of the same repository in the database's spec (restoring from its own backups).
    const restore = { ...req.restore_config, repository: keepSecrets(req.restore_config.repository, specRepositories(before.spec)) };
    const issues: { path: string; message: string }[] = [];
    validateRestoreConfig(restore, before.spec, targets, issues, id, Date.now());
    // a base_path inside the targets' extra volume (pgEdge's walkthrough: /backups) is a container path, not a host path
    const repo = heldByExtraVolumes(before.spec, targets, restore.repository.base_path) ? { ...restore.repository, base_path: undefined } : restore.repository;
    if (issues.length === 0) issues.push(...(await repositoryAdmissionIssues(deps, [{ repo, at: 'restore_config.repository' }], [{ rc: restore, at: 'restore_config' }], id)));
    if (issues[0]) throw new ApiError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const children = targets.map((nodeName) => ({ nodeName, taskId: uuidv7() }));
    // force skips the state check only: a task holding the database's lock still refuses the restore (409).
    const { task, db } = await startLockedTask({ store: deps.store, temporal: () => requireTemporal(deps) }, {
      task: { type: 'restore', input: { databaseId: id, restore: redactRestoreConfig(restore), targets: children, previousState: before.state } },
      from: c.req.valid('query').force ? 'any' : modifiableStates, to: 'restoring',
      // The repository's keys stay in the store: a workflow's input is in its history, which the Temporal UI shows.
      prepare: () => setRestoreSecrets(deps.store, id, repositorySecrets(restore.repository)),
    });
    const now = rfc3339(new Date());
    const nodeTasks: Task[] = children.map((ch) => ({
      scope: 'database', entity_id: id, database_id: id, parent_id: task.task_id, node_name: ch.nodeName,
      task_id: ch.taskId, created_at: now, type: 'node_restore', status: 'pending',
    }));
    return c.json({ task, node_tasks: nodeTasks, database: await databaseView(deps, db, true) }, 200);
  });
}
