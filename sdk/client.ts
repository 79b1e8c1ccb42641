// The REST client. Paths, parameters and bodies are typed by sdk/schema.d.ts, which openapi-typescript generates
// from the API's own OpenAPI document; openapi-fetch makes the calls. `api` is that client as is, for any endpoint;
// the methods here are the calls a program needs most, each unwrapping the response or throwing PgcpApiError.
// Idempotent requests (GET, HEAD, OPTIONS) are retried on network errors and 502/503/504, with backoff (p-retry);
// nothing that starts a task is ever retried by the SDK.
import createClient from 'openapi-fetch';
import pRetry from 'p-retry';
import { toPgcpError } from './errors.js';
import type { components, operations, paths } from './schema.js';
import { followTaskLog, waitForTask, type FollowOptions, type WaitOptions } from './task-follow.js';
import { tlsFetch, type ClientTls } from './tls-fetch.js';

export type { ClientTls };

export type Schemas = components['schemas'];
export type Database = Schemas['Database'];
export type DatabaseSpec = Schemas['DatabaseSpec'];
export type CreateDatabaseRequest = Schemas['CreateDatabaseRequest'];
export type UpdateDatabaseRequest = Schemas['UpdateDatabaseRequest'];
export type Task = Schemas['Task'];
export type TaskLog = Schemas['TaskLog'];
export type TaskLogEntry = TaskLog['entries'][number];
export type DatabaseStatus = Schemas['DatabaseStatus'];
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export interface ClientOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** Retries of an idempotent request (default 3); 0 turns retries off. */
  retries?: number;
  headers?: Record<string, string>;
  fetch?: (request: Request) => Promise<Response>;
  /** An API with mTLS on (https://…): the CA and this client's certificate and key, as PEM. */
  tls?: ClientTls;
}

const idempotent = new Set(['GET', 'HEAD', 'OPTIONS']);
const retryStatuses = new Set([502, 503, 504]);

class RetryableStatus extends Error {
  constructor(readonly response: Response) { super(`HTTP ${response.status}`); }
}

function retryingFetch(base: (r: Request) => Promise<Response>, retries: number): (r: Request) => Promise<Response> {
  return async (request) => {
    if (retries === 0 || !idempotent.has(request.method)) return base(request);
    try {
      return await pRetry(async () => {
        const res = await base(request.clone());
        if (retryStatuses.has(res.status)) throw new RetryableStatus(res);
        return res;
      }, { retries, minTimeout: 200, maxTimeout: 3000, signal: request.signal });
    } catch (err) {
      if (err instanceof RetryableStatus) return err.response; // out of retries: the caller sees the answer
      throw err;
    }
  };
}

export type PgcpClient = ReturnType<typeof createPgcpClient>;

export function createPgcpClient(o: ClientOptions) {
  const api = createClient<paths>({
    baseUrl: o.baseUrl.replace(/\/$/, ''),
    headers: o.headers,
    fetch: retryingFetch(o.fetch ?? (o.tls ? tlsFetch(o.tls) : (r) => fetch(r)), o.retries ?? 3),
  });
  /** openapi-fetch's { data, error, response } → data, or the API's error as PgcpApiError. */
  async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await p;
    if (error !== undefined || !response.ok) throw toPgcpError(response.status, error);
    return data as T;
  }
  const db = (database_id: string) => ({ path: { database_id } });
  const task = (database_id: string, task_id: string) => ({ path: { database_id, task_id } });

  const client = {
    api,
    listDatabases: async () => (await call(api.GET('/v1/databases'))).databases,
    getDatabase: (id: string) => call(api.GET('/v1/databases/{database_id}', { params: db(id) })),
    createDatabase: (req: CreateDatabaseRequest) => call(api.POST('/v1/databases', { body: req })),
    updateDatabase: (id: string, req: UpdateDatabaseRequest, query?: Query<'update-database'>) =>
      call(api.POST('/v1/databases/{database_id}', { params: { ...db(id), query }, body: req })),
    deleteDatabase: (id: string, o2: { force?: boolean } = {}) =>
      call(api.DELETE('/v1/databases/{database_id}', { params: { ...db(id), query: o2.force ? { force: 'true' } : {} } })),
    getStatus: (id: string) => call(api.GET('/v1/databases/{database_id}/status', { params: db(id) })),
    listTasks: async (id: string, query?: Query<'list-database-tasks'>) =>
      (await call(api.GET('/v1/databases/{database_id}/tasks', { params: { ...db(id), query } }))).tasks,
    getTask: (id: string, taskId: string) => call(api.GET('/v1/databases/{database_id}/tasks/{task_id}', { params: task(id, taskId) })),
    /** The log as one JSON page (the endpoint's other content type is the follow stream: see followTaskLog). */
    getTaskLog: (id: string, taskId: string, query?: Omit<Query<'get-database-task-log'>, 'follow'>) =>
      call(api.GET('/v1/databases/{database_id}/tasks/{task_id}/log', { params: { ...task(id, taskId), query } })) as Promise<TaskLog>,
    cancelTask: (id: string, taskId: string) => call(api.GET('/v1/databases/{database_id}/tasks/{task_id}/cancel', { params: task(id, taskId) })),
    /** The log's entries as they happen (server-sent events), ending when the task ends. */
    followTaskLog: (id: string, taskId: string, f: FollowOptions = {}) => followTaskLog(api, id, taskId, f),
    /** Follows the log until the task ends: the completed task, or PgcpTaskError when it failed or was canceled. */
    waitForTask: (id: string, taskId: string, w: WaitOptions = {}) => waitForTask(client, id, taskId, w),
    getJoinToken: () => call(api.GET('/v1/cluster/join-token')),
    /** Sent to a new host's server (started with PGCP_JOINS_CLUSTER=true): it joins the cluster the token belongs to. */
    joinCluster: (join: { token: string; server_urls: string[] }) => call(api.POST('/v1/cluster/join', { body: join })),
    /** remove_host: refused while databases have instances there unless forced. */
    removeHost: (hostId: string, o2: { force?: boolean } = {}) =>
      call(api.DELETE('/v1/hosts/{host_id}', { params: { path: { host_id: hostId }, query: o2.force ? { force: 'true' } : {} } })),
    getHostTask: (hostId: string, taskId: string) => call(api.GET('/v1/hosts/{host_id}/tasks/{task_id}', { params: { path: { host_id: hostId, task_id: taskId } } })),
  };
  return client;
}
