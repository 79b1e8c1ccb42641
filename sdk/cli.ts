// `pgcp`, the command line on the SDK's REST client (package.json bin → sdk/bin/pgcp.mjs):
//   pgcp db list | get <id> | create -f spec.json [--wait] | update <id> -f spec.json [--wait] [--dry-run] | delete <id> [--force] [--wait]
//   pgcp task list <db> | task log [<db>] <task-id> [--follow]
//   pgcp status <db>
//   pgcp cluster join-token | cluster join <token> <server-url>... | host remove <id> [--force]
// Human output by default, --json for scripts (the SDK's objects as the API returns them). The API is --api, else
// PGCP_API_URL, else http://127.0.0.1:3000. With mTLS on the API: --cacert, --cert, --key (PEM files; or
// PGCP_API_CA_CERT, PGCP_API_CLIENT_CERT, PGCP_API_CLIENT_KEY), as curl's.
// Exit status 1 on a refusal (its error name is printed) or a failed task.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createPgcpClient, type CreateDatabaseRequest, type PgcpClient, type Task, type UpdateDatabaseRequest } from './client.js';
import { formatDatabase, formatStatus, logLine, table, taskLine } from './cli-format.js';
import { PgcpApiError, PgcpTaskError } from './errors.js';

const usage = `usage: pgcp [--api URL] [--cacert ca.crt --cert client.crt --key client.key] [--json] <command>
  db list                                   databases
  db get <id>                               one database
  db create -f spec.json [--wait]           create (file: {"id", "spec"} or a bare spec; --id overrides)
  db update <id> -f spec.json [--wait] [--dry-run]
  db delete <id> [--force] [--wait]
  task list <db>                            the database's tasks, newest first
  task log [<db>] <task-id> [--follow]      a task's log; --follow streams it until the task ends
  status <db>                               nodes, instances, replication lag, replicas, slots, backups
  cluster join-token                        the token a new host joins with (ask a member)
  cluster join <token> <server-url>...      join the --api server's host to that cluster (ask the new host's server)
  host remove <id> [--force]                a remove_host task (--force: although databases have instances there)`;

const { values: opt, positionals: args } = parseArgs({
  allowPositionals: true,
  options: {
    api: { type: 'string' }, json: { type: 'boolean', default: false }, file: { type: 'string', short: 'f' }, id: { type: 'string' },
    wait: { type: 'boolean', default: false }, follow: { type: 'boolean', default: false }, force: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    cacert: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' },
  },
});
const baseUrl = opt.api ?? process.env.PGCP_API_URL ?? 'http://127.0.0.1:3000';
const tlsFiles = { ca: opt.cacert ?? process.env.PGCP_API_CA_CERT, cert: opt.cert ?? process.env.PGCP_API_CLIENT_CERT, key: opt.key ?? process.env.PGCP_API_CLIENT_KEY };
if (!!tlsFiles.cert !== !!tlsFiles.key) {
  console.error('--cert and --key go together');
  process.exit(2);
}
const client = createPgcpClient({
  baseUrl,
  ...(tlsFiles.cert && tlsFiles.key
    ? { tls: { cert: await readFile(tlsFiles.cert), key: await readFile(tlsFiles.key), ...(tlsFiles.ca ? { ca: await readFile(tlsFiles.ca) } : {}) } }
    : {}),
});
const print = (json: unknown, human: () => string) => console.log(opt.json ? JSON.stringify(json, null, 2) : human());

async function readSpecFile<T>(withId: boolean): Promise<T> {
  if (!opt.file) throw new Error('-f spec.json is required');
  const content = JSON.parse(await readFile(opt.file, 'utf8')) as Record<string, unknown>;
  const req = 'spec' in content ? content : { spec: content };
  return (withId && opt.id ? { ...req, id: opt.id } : req) as T;
}

/** --wait: the task's log as it happens (to stderr under --json, so stdout stays one JSON document), then its end. */
async function maybeWait(c: PgcpClient, databaseId: string, task: Task): Promise<Task> {
  if (!opt.wait) return task;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  return c.waitForTask(databaseId, task.task_id, {
    signal: abort.signal,
    onEntry: (e) => (opt.json ? console.error : console.log)(logLine(e)),
  });
}

/** A task id alone: its database is found in the task list. */
async function databaseOfTask(taskId: string): Promise<string> {
  const { data } = await client.api.GET('/v1/tasks', { params: { query: { scope: 'database' } } });
  const t = data?.tasks.find((x) => x.task_id === taskId);
  if (!t?.database_id) throw new PgcpApiError('not_found', 'no task found with the given ID', 404);
  return t.database_id;
}

async function main(): Promise<void> {
  const [group, verb, a, b] = args;
  if (opt.help || !group) { console.log(usage); return; }
  if (group === 'status' && verb) {
    const s = await client.getStatus(verb);
    print(s, () => formatStatus(s));
    return;
  }
  if (group === 'db') {
    if (verb === 'list') { const dbs = await client.listDatabases(); print(dbs, () => table(['ID', 'STATE', 'INSTANCES', 'CREATED'], dbs.map((d) => [d.id, d.state, d.instances?.length ?? 0, d.created_at]))); return; }
    if (verb === 'get' && a) { const d = await client.getDatabase(a); print(d, () => formatDatabase(d)); return; }
    if (verb === 'create') {
      const r = await client.createDatabase(await readSpecFile<CreateDatabaseRequest>(true));
      if (!opt.json) console.log(`database ${r.database.id}: ${taskLine(r.task)}`);
      const task = await maybeWait(client, r.database.id, r.task);
      print({ ...r, task }, () => taskLine(task));
      return;
    }
    if (verb === 'update' && a) {
      const r = await client.updateDatabase(a, await readSpecFile<UpdateDatabaseRequest>(false), opt['dry-run'] ? { dry_run: 'true' } : undefined);
      if ('plan' in r) { print(r, () => r.plan.join('\n')); return; }
      if (!opt.json) console.log(taskLine(r.task));
      const task = await maybeWait(client, a, r.task);
      print({ ...r, task }, () => taskLine(task));
      return;
    }
    if (verb === 'delete' && a) {
      const r = await client.deleteDatabase(a, { force: opt.force });
      if (!opt.json) console.log(taskLine(r.task));
      const task = await maybeWait(client, a, r.task);
      print({ task }, () => taskLine(task));
      return;
    }
  }
  if (group === 'cluster') {
    if (verb === 'join-token') { const j = await client.getJoinToken(); print(j, () => j.token); return; }
    if (verb === 'join' && a && b) {
      await client.joinCluster({ token: a, server_urls: args.slice(3) });
      print({ joined: true }, () => `joined: ${baseUrl}'s host is in the cluster`);
      return;
    }
  }
  if (group === 'host' && verb === 'remove' && a) {
    const r = await client.removeHost(a, { force: opt.force });
    print(r, () => [taskLine(r.task), ...r.update_database_tasks.map((u) => `  ${u.database_id}: ${taskLine(u)}`)].join('\n'));
    return;
  }
  if (group === 'task') {
    if (verb === 'list' && a) { const ts = await client.listTasks(a); print(ts, () => table(['TASK', 'TYPE', 'STATUS', 'NODE', 'CREATED', 'COMPLETED'], ts.map((t) => [t.task_id, t.type, t.status, t.node_name, t.created_at, t.completed_at]))); return; }
    if (verb === 'log' && a) {
      const [databaseId, taskId] = b ? [a, b] : [await databaseOfTask(a), a];
      if (!opt.follow) { const l = await client.getTaskLog(databaseId, taskId); print(l, () => l.entries.map(logLine).join('\n')); return; }
      const stream = client.followTaskLog(databaseId, taskId);
      for (let r = await stream.next(); ; r = await stream.next()) {
        if (r.done) { if (!opt.json) console.log(`(task ${r.value.task_status})`); return; }
        console.log(opt.json ? JSON.stringify({ id: r.value.id, ...r.value.entry }) : logLine(r.value.entry));
      }
    }
  }
  console.error(usage);
  process.exitCode = 2;
}

try {
  await main();
} catch (err) {
  if (err instanceof PgcpApiError) console.error(`error: ${err.errorName}: ${err.message}`);
  else if (err instanceof PgcpTaskError) console.error(`error: ${err.message}`);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
