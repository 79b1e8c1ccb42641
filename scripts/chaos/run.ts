// The rounds of `npm run chaos` against a running control plane (npm start's launcher, whose supervised processes it
// SIGKILLs by pid): a 2-node database whose node n1 has a replica (n1 on host-1 and host-2, n2 on host-2), a writer
// inserting rows on n1 and n2 throughout, and per round one operation with one fault at one point of it. After each
// round: the task ended on its own (completed; a request the fault left unanswered is sent once more), the database
// and every instance are available (a node's replica synchronous again), each node has exactly its containers, slots
// and subscriptions, no acknowledged row is missing and every node holds the same rows.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createDocker } from '../../activities/docker/client.js';
import { ids, labels } from '../../workflows/model/ids.js';
import { startWriter, type Writer } from '../../test/support/writer.js';
import { processOf, type FaultKind, type Operation, type Round, type RoundResult } from './plan.js';
import { unpauseOrThaw } from './freezer.js';

export interface ChaosTarget {
  apiUrl: string;
  /** The current pid of a supervised process: worker-host-1, worker-host-2, api, temporal. */
  pid: (name: string) => number | undefined;
  /** A directory inside the repository roots (PGCP_REPOSITORY_ROOTS) for the database's posix backups. */
  repositoryPath: string;
  /** The database's id (the created ones add a suffix) and its first port (it uses five from there). */
  databaseId: string;
  basePort: number;
  log: (line: string) => void;
}

const hosts = ['host-1', 'host-2'] as const;
const address = (h: string) => `127.0.0.${h.slice(5)}`;
const user = { username: 'admin', password: 'chaos-password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const database = 'app';
const finalStatuses = ['completed', 'failed', 'canceled'];
/** Task type of each operation (how a task started by a request that got no answer is found). */
const taskType: Record<Operation, string> = { create: 'create', 'add-node': 'update', switchover: 'switchover', backup: 'node_backup', restore: 'restore' };

interface NodeSpec { name: string; host_ids: string[]; port: number }
interface Db { id: string; nodes: NodeSpec[] }

/** Polls until `check` gives a truthy value (errors count as not yet); throws naming `what` after timeoutMs. */
async function until<T>(what: string, check: () => Promise<T>, timeoutMs: number, intervalMs = 500): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`${what} (after ${Math.round(timeoutMs / 1000)} s; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

/** The process that listens on a TCP port of this machine (Linux /proc), e.g. a Temporal server a test stack started. */
export function pidListeningOn(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const l of text.split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try { fds = readdirSync(`/proc/${p}/fd`); } catch { continue; }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(p);
      } catch { /* gone */ }
    }
  }
  return undefined;
}

/** Runs the rounds; each result is pushed into `results` as soon as its round ends (an interrupted run prints those). */
export async function runChaos(t: ChaosTarget, rounds: Round[], results: RoundResult[] = []): Promise<RoundResult[]> {
  const docker = createDocker();
  const repository = { type: 'posix', base_path: t.repositoryPath };
  const main: Db = {
    id: t.databaseId,
    nodes: [
      { name: 'n1', host_ids: [...hosts], port: t.basePort },
      { name: 'n2', host_ids: ['host-2'], port: t.basePort + 1 },
    ],
  };
  const n3: NodeSpec = { name: 'n3', host_ids: ['host-1'], port: t.basePort + 2 };
  const created: Db = { id: `${t.databaseId}-c`, nodes: [{ name: 'n1', host_ids: [...hosts], port: t.basePort + 3 }] };
  // A created database gets a repository of its own each round: a deleted database's backups stay in its repository,
  // and a new stanza is refused over another database's.
  let createdRound = 0;
  const repositoryOf = (db: Db) => (db.id === main.id ? repository : { type: 'posix', base_path: `${t.repositoryPath}/${db.id}-${createdRound}` });
  const specOf = (db: Db) => ({ database_name: database, database_users: [user], nodes: db.nodes, backup_config: { repositories: [repositoryOf(db)] } });

  // ---- HTTP --------------------------------------------------------------------------------------------------
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.apiUrl}${path}`, {
      method, signal: AbortSignal.timeout(30_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely here
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  /** A read that waits out an API or Temporal that is down (restarting). */
  const get = (path: string) => until(`GET ${path}`, async () => {
    const r = await request('GET', path);
    return r.status < 500 ? r : null;
  }, 300_000, 500);
  const taskOf = async (db: string, task: string) => (await get(`/v1/databases/${db}/tasks/${task}`)).body;
  const logOf = async (db: string, task: string) => ((await get(`/v1/databases/${db}/tasks/${task}/log`)).body?.entries ?? []) as { message: string }[];
  const awaitTask = (db: string, task: string, timeoutMs = 900_000) =>
    until(`task ${task} to end`, async () => { const x = await taskOf(db, task); return finalStatuses.includes(x?.status) ? x : null; }, timeoutMs, 1000);
  /** Sends a mutating request and waits for its task to complete (setup and cleanup, not under a fault). */
  const runTask = async (method: string, path: string, body: unknown, db: string) => {
    const r = await until(`${method} ${path} accepted`, async () => {
      const x = await request(method, path, body).catch(() => null);
      if (x && x.status !== 200 && x.status !== 409 && x.status < 500) throw new Error(`${method} ${path}: ${x.status} ${JSON.stringify(x.body)}`);
      return x?.status === 200 ? x : null;
    }, 300_000, 2000);
    const task = await awaitTask(db, r.body.task.task_id);
    if (task.status !== 'completed') throw new Error(`${method} ${path}: task ${task.status}: ${task.error}`);
  };

  // ---- Postgres ----------------------------------------------------------------------------------------------
  const sql = async (host: string, port: number, text: string, params: unknown[] = []) => {
    const c = new pg.Client({ host: address(host), port, user: user.username, password: user.password, database, connectionTimeoutMillis: 3000, query_timeout: 15_000 });
    c.on('error', () => undefined);
    await c.connect();
    try { return (await c.query(text, params)).rows; } finally { await c.end().catch(() => undefined); }
  };
  /** The members of a node that answer as primary / as replica now (a dead or frozen one answers as neither). */
  const roles = async (node: NodeSpec) => {
    const answers = await Promise.all(node.host_ids.map(async (h) => {
      const r = await sql(h, node.port, 'SELECT pg_is_in_recovery() AS r').catch(() => null);
      return { host: h, role: r ? (r[0].r ? 'replica' : 'primary') : null };
    }));
    return { primaries: answers.filter((a) => a.role === 'primary').map((a) => a.host), replicas: answers.filter((a) => a.role === 'replica').map((a) => a.host) };
  };
  const primaryOf = (node: NodeSpec) => until(`one primary of ${node.name}`, async () => { const r = await roles(node); return r.primaries.length === 1 ? r.primaries[0]! : null; }, 180_000, 500);
  const onNode = async (node: NodeSpec, text: string, params: unknown[] = []) => sql(await primaryOf(node), node.port, text, params);

  // ---- setup -------------------------------------------------------------------------------------------------
  const init = await get('/v1/cluster/init');
  if (init.status !== 200 && init.status !== 409) throw new Error(`cluster init: ${init.status} ${JSON.stringify(init.body)}`);
  await until('host-1 and host-2 healthy', async () => {
    const hs = (await get('/v1/hosts')).body.hosts as { id: string; status?: { state: string } }[];
    return hosts.every((h) => hs.some((x) => x.id === h && x.status?.state === 'healthy'));
  }, 120_000, 1000);
  for (const db of [main.id, created.id]) {
    // left by an earlier run that was interrupted
    if ((await get(`/v1/databases/${db}`)).status === 200) await runTask('DELETE', `/v1/databases/${db}?force=true`, undefined, db);
  }
  const t0 = Date.now();
  await runTask('POST', '/v1/databases', { id: main.id, spec: specOf(main) }, main.id);
  await onNode(main.nodes[0]!, 'CREATE TABLE t (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
  await until('table t on n2', async () => (await onNode(main.nodes[1]!, "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 60_000);
  await runTask('POST', `/v1/databases/${main.id}/nodes/n1/backups`, { type: 'full' }, main.id);
  t.log(`database ${main.id} (n1 on host-1 + replica on host-2, n2 on host-2) created and backed up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  /** Rows whose node cannot be expected to hold them: written while an in-place restore ran (it keeps what it restored). */
  const restoreWindows: { from: number; to: number }[] = [];
  const rowTime = (id: string) => parseInt(id.split('-')[1] ?? '0', 36);
  /** Rows a failed round already reported missing or differing: later rounds judge their own rows, not those again. */
  const reported = new Set<string>();
  const exempt = (id: string) => reported.has(id) || restoreWindows.some((w) => rowTime(id) >= w.from && rowTime(id) <= w.to);

  try {
    for (const round of rounds) {
      const r = await runRound(round);
      t.log(`round ${round.index}: ${r.fault} at ${r.point} (${r.at}) of ${r.operation}: ${r.ok ? 'ok' : 'FAILED'} ${r.outcome}${r.recoverMs === null ? '' : `, recovered in ${(r.recoverMs / 1000).toFixed(1)} s`}`);
      results.push(r);
    }
  } finally {
    for (const db of [created.id, main.id]) {
      const del = await request('DELETE', `/v1/databases/${db}?force=true`).catch(() => null);
      if (del?.status === 200) await awaitTask(db, del.body.task.task_id, 300_000).catch(() => undefined);
    }
  }
  return results;

  // ---- one round ---------------------------------------------------------------------------------------------
  async function runRound(round: Round): Promise<RoundResult> {
    const result: RoundResult = { ...round, at: '-', ok: false, outcome: '', recoverMs: null, rows: 0 };
    const opDb = round.operation === 'create' ? created : main;
    // what the round's request is: its database, method, path and body (kept to send it again)
    let req: { method: string; path: string; body: unknown };
    // ready the database for the operation (not under the fault)
    if (round.operation === 'create') {
      createdRound = round.index;
      const existing = await get(`/v1/databases/${created.id}`);
      if (existing.status === 200) await runTask('DELETE', `/v1/databases/${created.id}?force=true`, undefined, created.id);
      req = { method: 'POST', path: '/v1/databases', body: { id: created.id, spec: specOf(created) } };
    } else if (round.operation === 'add-node') {
      req = { method: 'POST', path: `/v1/databases/${main.id}`, body: { spec: specOf({ ...main, nodes: [...main.nodes, n3] }) } };
    } else if (round.operation === 'switchover') {
      req = { method: 'POST', path: `/v1/databases/${main.id}/nodes/n1/switchover`, body: {} };
    } else if (round.operation === 'backup') {
      req = { method: 'POST', path: `/v1/databases/${main.id}/nodes/n1/backups`, body: { type: 'full' } };
    } else {
      req = {
        method: 'POST', path: `/v1/databases/${main.id}/restore`,
        body: { restore_config: { source_database_id: main.id, source_node_name: 'n1', source_database_name: database, repository }, target_nodes: ['n1'] },
      };
    }

    let writer: Writer;
    try {
      writer = await startWriter(
        [{ node: 'n1', port: main.nodes[0]!.port, hosts: hosts.map(address) }, { node: 'n2', port: main.nodes[1]!.port, host: address('host-2') }],
        { user: user.username, password: user.password, database, table: 't', ratePerSecond: 10 },
      );
    } catch (err) {
      result.outcome = `the writer could not start: ${(err as Error).message}`;
      return result;
    }
    let pausing: Promise<void> = Promise.resolve();
    let faultAt = 0;
    const started = Date.now();
    const window = round.operation === 'restore' ? { from: started, to: Number.MAX_SAFE_INTEGER } : null;
    if (window) restoreWindows.push(window);
    try {
      await sleep(1000);
      const inject = async () => {
        faultAt = Date.now();
        pausing = (await injectFault(round.fault, round.operation === 'create' ? created : main)).done;
      };
      // the request, with the fault at point 0 landing while it is handled
      const submit = request(req.method, req.path, req.body).catch((err: unknown) => ({ status: 0, body: { message: String(err) } }));
      if (round.point === 0) {
        await sleep(20);
        await inject();
        result.at = 'request';
      }
      let answer = await submit;
      let resubmitted = false;
      if (answer.status !== 200) {
        // No answer, or an error caused by the fault: find the task the request may have started, else send it once more.
        if (round.point !== 0 || !['kill-api', 'kill-temporal'].includes(round.fault)) {
          result.outcome = `request refused: ${answer.status} ${JSON.stringify(answer.body).slice(0, 120)}`;
          return result;
        }
        await get('/v1/version');
        const found = await findTask(opDb.id, round.operation, started);
        if (found) answer = { status: 200, body: { task: { task_id: found } } };
        else {
          resubmitted = true;
          answer = await resubmit(round.operation, req, opDb);
        }
      }
      const taskId = answer.body.task.task_id as string;
      // the task whose log the point counts in: a restore's node task
      const logTask = round.operation === 'restore'
        ? (answer.body.node_tasks?.[0]?.task_id as string | undefined) ?? await until('the node_restore task', () => childTask(opDb.id, taskId), 60_000, 500)
        : taskId;
      if (round.point > 0) {
        const entry = await until(`log entry ${round.point}`, async () => {
          const entries = await logOf(opDb.id, logTask);
          if (entries.length >= round.point) return entries[round.point - 1]!.message;
          const x = await taskOf(opDb.id, taskId);
          return finalStatuses.includes(x?.status) ? `after the end (${entries.length} entries)` : null;
        }, 900_000, 200);
        // pgBackRest's lines start with a timestamp and process: the message says where the fault landed
        result.at = entry.replace(/\s+/g, ' ').replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ P\d+ +[A-Z]+: /, '');
        await inject();
      }
      t.log(`round ${round.index}: ${round.fault} at ${result.at}; waiting for task ${taskId}`);
      let task = await awaitTask(opDb.id, taskId);
      const failover = task.status === 'canceled' && round.operation === 'backup' ? await failoverSince(opDb.id, started) : undefined;
      if (failover) {
        // the primary under the backup died: the host's agent's failover took the database's lock and cancelled the
        // backup (README, "Fast unplanned failover"). Once the failover ends, the same backup must complete.
        t.log(`round ${round.index}: backup cancelled by failover task ${failover}; sending it again once that ends`);
        await awaitTask(opDb.id, failover);
        resubmitted = true;
        task = await awaitTask(opDb.id, (await resubmit(round.operation, req, opDb)).body.task.task_id as string);
      }
      if (task.status !== 'completed') {
        result.outcome = `task ${task.status}: ${String(task.error ?? '').slice(0, 200)}`;
        return result;
      }
      t.log(`round ${round.index}: task ${task.status}; checking`);
      await pausing;
      const db = opDb.id === main.id && round.operation === 'add-node' ? { ...main, nodes: [...main.nodes, n3] } : opDb;
      await until('database and every instance available', async () => {
        const x = (await get(`/v1/databases/${db.id}`)).body;
        return x.state === 'available' && x.instances?.length === db.nodes.reduce((n, nd) => n + nd.host_ids.length, 0)
          && x.instances.every((i: { state: string }) => i.state === 'available');
      }, 300_000, 1000);
      await until('replication both ways', () => replicating(db), 180_000, 1000);
      // a node with replicas has a synchronous one again (a member that rejoined catches up first): only such a
      // replica is promoted, so until then the node could not fail over
      await until('a synchronous replica in every node with replicas', async () => {
        const replicas = ((await get(`/v1/databases/${db.id}/status`)).body.replicas ?? []) as { node_name: string; sync_state?: string }[];
        return db.nodes.filter((n) => n.host_ids.length > 1).every((n) => replicas.some((r) => r.node_name === n.name && r.sync_state === 'sync'));
      }, 180_000, 1000);
      result.recoverMs = Date.now() - faultAt;
      if (window) window.to = Date.now();
      await sleep(1000);
      await writer.stop();
      result.rows = writer.acknowledged.length;
      await checkObjects(db);
      if (db.id !== main.id) await checkObjects({ ...main, nodes: main.nodes });
      await checkRows(db.id === main.id ? db : main, writer);
      if (round.operation === 'add-node') {
        // n3 is removed again for the next round: that update too must leave nothing of n3 behind
        await cleanup(round.operation);
        await sleep(5000); // two of Patroni's loops: a slot it would make again is there by then
        await checkObjects(main);
      }
      result.ok = true;
      result.outcome = failover ? 'completed after the failover cancelled it' : resubmitted ? 'completed after one re-submit' : 'completed';
      return result;
    } catch (err) {
      result.outcome = (err as Error).message.slice(0, 300);
      return result;
    } finally {
      await writer.stop().catch(() => undefined);
      await pausing.catch(() => undefined);
      if (window && window.to === Number.MAX_SAFE_INTEGER) window.to = Date.now();
      // back to the base shape for the next round (not under a fault)
      await cleanup(round.operation).catch((err: unknown) => t.log(`round ${round.index}: cleanup failed: ${(err as Error).message}`));
    }
  }

  async function cleanup(op: Operation) {
    if (op === 'add-node') {
      const x = (await get(`/v1/databases/${main.id}`)).body;
      if ((x.spec?.nodes ?? []).some((n: NodeSpec) => n.name === 'n3')) await runTask('POST', `/v1/databases/${main.id}`, { spec: specOf(main) }, main.id);
    }
    if (op === 'create') {
      const x = await get(`/v1/databases/${created.id}`);
      if (x.status === 200) await runTask('DELETE', `/v1/databases/${created.id}?force=true`, undefined, created.id);
    }
  }

  /** A task of the operation's type created since `since` (one a request started before its answer was lost). */
  async function findTask(db: string, op: Operation, since: number): Promise<string | undefined> {
    const r = await get(`/v1/databases/${db}/tasks?limit=20`);
    const tasks = (r.body?.tasks ?? []) as { task_id: string; type: string; created_at: string }[];
    return tasks.find((x) => x.type === taskType[op] && Date.parse(x.created_at) >= since - 1000)?.task_id;
  }

  /** A failover task of the database started since `since` (the host's agent starts one when a primary dies). */
  async function failoverSince(db: string, since: number): Promise<string | undefined> {
    const r = await get(`/v1/databases/${db}/tasks?limit=20`);
    return ((r.body?.tasks ?? []) as { task_id: string; type: string; created_at: string }[])
      .find((x) => x.type === 'failover' && Date.parse(x.created_at) >= since - 1000)?.task_id;
  }

  async function childTask(db: string, parent: string): Promise<string | undefined> {
    const r = await get(`/v1/databases/${db}/tasks?limit=20`);
    return ((r.body?.tasks ?? []) as { task_id: string; parent_id?: string }[]).find((x) => x.parent_id === parent)?.task_id;
  }

  /**
   * Sends the request once more. A 409 while the database is still locked by the lost request (the reconciler frees
   * a lock whose task never started) is waited out; a create whose record exists is sent as an update of the spec.
   */
  async function resubmit(op: Operation, req: { method: string; path: string; body: unknown }, db: Db) {
    return until('the re-submit accepted', async () => {
      let x = await request(req.method, req.path, req.body).catch(() => null);
      if (op === 'create' && x?.status === 409 && x.body?.name === 'database_already_exists') {
        x = await request('POST', `/v1/databases/${db.id}`, { spec: specOf(db) }).catch(() => null);
      }
      if (x && x.status !== 200 && x.status !== 409 && x.status < 500) throw new Error(`re-submit: ${x.status} ${JSON.stringify(x.body)}`);
      return x?.status === 200 ? x : null;
    }, 240_000, 2000);
  }

  /** Injects the fault; returns what must end before the checks (a pause's unpause). */
  async function injectFault(fault: FaultKind, db: Db): Promise<{ done: Promise<void> }> {
    const proc = processOf[fault];
    if (proc) {
      const pid = t.pid(proc);
      if (!pid) throw new Error(`no pid of ${proc}`);
      process.kill(pid, 'SIGKILL');
      return { done: Promise.resolve() };
    }
    // container faults hit node n1 of the operation's database (its members may not exist yet: then the main one's)
    const target = (await docker.listContainers({ filters: JSON.stringify({ label: [`${labels.databaseId}=${db.id}`] }) })).length > 0 ? db : main;
    const n1 = target.nodes[0]!;
    const r = await roles(n1);
    const member = (h: string) => ids.instance(target.id, 'n1', h);
    if (fault === 'kill-replica') {
      // no member answers yet (a create before its users exist): the planner's replica is the node's second host
      const h = r.replicas[0] ?? (r.primaries.length > 0 ? n1.host_ids.find((x) => !r.primaries.includes(x)) : n1.host_ids[1]);
      if (h) await docker.getContainer(member(h)).kill().catch(() => undefined);
      return { done: Promise.resolve() };
    }
    const h = r.primaries[0] ?? n1.host_ids[0]!;
    const container = docker.getContainer(member(h));
    if (fault === 'kill-primary') {
      await container.kill().catch(() => undefined);
      return { done: Promise.resolve() };
    }
    await container.pause().catch(() => undefined);
    return {
      done: (async () => {
        await sleep(30_000);
        // fencing may have killed it meanwhile (another member took the leader key): the unpause is then refused at
        // once. No inspect first: an exec that raced the pause leaves the engine's calls about it hanging.
        const how = await unpauseOrThaw(docker, member(h));
        if (how !== 'unpaused') t.log(`docker unpause of ${member(h)} hung 20 s: ${how === 'thawed' ? 'thawed through its freezer cgroup' : 'still frozen'}`);
      })(),
    };
  }

  /** Every subscription of every node exists once, is enabled and replicates. */
  async function replicating(db: Db): Promise<boolean> {
    if (db.nodes.length < 2) return true; // one node: no replication layer to check
    for (const node of db.nodes) {
      const subs = await onNode(node, 'SELECT subscription_name, status FROM pglogical.show_subscription_status()');
      if (subs.length !== db.nodes.length - 1 || subs.some((s) => s.status !== 'replicating')) return false;
    }
    return true;
  }

  /** Exactly the database's containers (one per instance, running), slots and subscriptions: none twice, none left over. */
  async function checkObjects(db: Db) {
    const want = db.nodes.flatMap((n) => n.host_ids.map((h) => ids.instance(db.id, n.name, h))).sort();
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${db.id}`] }) });
    const have = containers.map((c) => `${(c.Names[0] ?? c.Id).replace(/^\//, '')}${c.State === 'running' ? '' : ` (${c.State})`}`).sort();
    if (JSON.stringify(have) !== JSON.stringify(want)) throw new Error(`containers of ${db.id}: ${have.join(', ')}; want ${want.join(', ')}`);
    for (const node of db.nodes) {
      const slots = await onNode(node, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical'");
      if (slots.length !== db.nodes.length - 1) throw new Error(`logical slots on ${db.id} ${node.name}: ${slots.map((s) => s.slot_name).join(', ') || 'none'}; want ${db.nodes.length - 1}`);
      if (db.nodes.length < 2) continue;
      const subs = await onNode(node, 'SELECT sub_name, sub_enabled FROM pglogical.subscription');
      if (subs.length !== db.nodes.length - 1 || subs.some((s) => !s.sub_enabled)) {
        throw new Error(`subscriptions on ${db.id} ${node.name}: ${subs.map((s) => `${s.sub_name}${s.sub_enabled ? '' : ' (disabled)'}`).join(', ') || 'none'}`);
      }
    }
  }

  /** Every acknowledged row on every node (on its own node when a restore ran meanwhile), and the same rows everywhere. */
  async function checkRows(db: Db, writer: Writer) {
    const acked = writer.acknowledged;
    let last = '';
    let bad = new Set<string>();
    try {
      await until('every acknowledged row on every node, the same rows everywhere', async () => {
        bad = new Set<string>();
        const rows = new Map<string, Set<string>>();
        for (const node of db.nodes) rows.set(node.name, new Set((await onNode(node, 'SELECT id FROM t')).map((x) => x.id as string)));
        const problems: string[] = [];
        for (const node of db.nodes) {
          const have = rows.get(node.name)!;
          const missing = acked.filter((a) => !have.has(a.id) && (a.node === node.name || !exempt(a.id)));
          for (const m of missing) bad.add(m.id);
          if (missing.length > 0) problems.push(`${node.name} lacks ${missing.length} acknowledged rows (${missing.slice(0, 3).map((m) => m.id).join(', ')})`);
        }
        const [first, ...others] = db.nodes.map((n) => [n.name, [...rows.get(n.name)!].filter((id) => !exempt(id))] as const);
        for (const [name, ids2] of others) {
          const a = new Set(first![1]);
          const b = new Set(ids2);
          const onlyA = [...a].filter((x) => !b.has(x));
          const onlyB = [...b].filter((x) => !a.has(x));
          for (const x of [...onlyA, ...onlyB]) bad.add(x);
          if (onlyA.length + onlyB.length > 0) problems.push(`${first![0]} and ${name} differ: ${onlyA.length} only on ${first![0]} (${onlyA.slice(0, 2).join(', ')}), ${onlyB.length} only on ${name} (${onlyB.slice(0, 2).join(', ')})`);
        }
        last = problems.join('; ');
        return problems.length === 0;
      }, 120_000, 2000);
    } catch {
      for (const id of bad) reported.add(id);
      throw new Error(`rows: ${last}`);
    }
  }
}
