// Supporting services (pgEdge §5.7, §7.3): an MCP service beside a 2-node database on three hosts, one of which holds
// no database instance. Checked as a user sees it: every service instance running with its address, an MCP client
// (@modelcontextprotocol/sdk over streamable HTTP) listing tools and reading rows written on the other node, writes
// refused without allow_writes, an unsupported version failing the task and the database until an update to a good
// version (which also drops host-3's instance), a switchover answered by the same service instance, the service's
// secrets in no response, task log or workflow history, and the services gone with the database. One database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createDocker } from '../../activities/docker/client.js';
import { execIn } from '../../activities/docker/exec.js';
import { decodeHistoryPayloads } from '../../platform/payload-codec.js';
import { projectRoot } from '../../platform/config.js';
import { labels } from '../../workflows/model/ids.js';
import { serviceIds } from '../../workflows/model/services.js';
import type { ApiCall } from '../support/api-client.js';
import { recordHistory } from '../support/histories.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { nodeConnection, query } from '../support/sql.js';
import { forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWriter } from '../support/writer.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const id = `svc-${Math.random().toString(36).slice(2, 7)}`;
const port = await freePorts(4);
const mcpPort = port + 2;
const address = (host: string) => `127.0.0.${host.slice(5)}`;
const token = `mcp-init-token-${Math.random().toString(36).slice(2, 12)}`;
const apiKey = `sk-ant-test-${Math.random().toString(36).slice(2, 14)}`;
const jwtSecret = `jwt-secret-${Math.random().toString(36).slice(2)}-${'x'.repeat(24)}`;
const ragKey = `sk-rag-test-${Math.random().toString(36).slice(2, 14)}`;
const secrets = [token, apiKey, jwtSecret, ragKey];
// connect_as's password, a canary: looked for in every file on the host (issue 15)
const adminPassword = `canary-svc-pw-${Math.random().toString(36).slice(2, 12)}`;
const users = [{ username: 'admin', password: adminPassword, db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] }];
const nodes = [{ name: 'n1', host_ids: ['host-1', 'host-2'], port }, { name: 'n2', host_ids: ['host-2'], port: port + 1 }];
const llm = { allow_writes: false, llm_enabled: true, llm_provider: 'anthropic', llm_model: 'claude-sonnet-4-5' };
const service = (version: string, hostIds: string[], config: Record<string, unknown>) => ({
  service_id: 'mcp', service_type: 'mcp', version, host_ids: hostIds, port: mcpPort, connect_as: 'admin', config,
});
const createSpec = { database_name: 'app', database_users: users, nodes, services: [service('latest', ['host-1', 'host-2', 'host-3'], { ...llm, init_token: token, anthropic_api_key: apiKey })] };
// later updates omit the password, init_token (creation only) and the API key (kept from before)
const updateSpec = (version: string, hostIds: string[]) => ({
  database_name: 'app', database_users: users.map(({ password: _p, ...u }) => u), nodes, services: [service(version, hostIds, llm)],
});

let stack: ProcessStack | undefined;
const call: ApiCall = (method, url, body) => stack!.call(method, url, body);
const taskIds: string[] = [];
const responses: string[] = [];
const database = async () => {
  const r = await call('GET', `/v1/databases/${id}`);
  responses.push(JSON.stringify(r.body));
  return r.body;
};
const finished = async (taskId: string, timeoutMs = 300_000) => { taskIds.push(taskId); return waitForTask(call, id, taskId, { timeoutMs, intervalMs: 1000 }); };

async function mcp(host: string, auth = true): Promise<McpClient> {
  const client = new McpClient({ name: 'pgcp-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`http://${address(host)}:${mcpPort}/mcp`), {
    requestInit: auth ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
  return client;
}
const textOf = (r: any) => (r.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
async function queryThrough(host: string, sql: string): Promise<{ isError: boolean; text: string }> {
  const client = await mcp(host);
  try {
    const r = await client.callTool({ name: 'query_database', arguments: { query: sql } });
    return { isError: r.isError === true, text: textOf(r) };
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  execFileSync('bash', ['images/services/build.sh'], { cwd: projectRoot, stdio: 'inherit' }); // cached: well under a second
  stack = await startProcessStack(['host-1', 'host-2', 'host-3']);
  const created = await call('POST', '/v1/databases', { id, spec: createSpec });
  responses.push(JSON.stringify(created.body));
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const task = await finished(created.body.task.task_id, 420_000);
  expect(task.status, task.error).toBe('completed');
  await recordHistory(stack.temporal, task.task_id, 'services');
  const sql = (n: 'n1' | 'n2', host: string, text: string) => query(nodeConnection(n === 'n1' ? port : port + 1, { host: address(host), password: adminPassword }), text);
  await sql('n1', 'host-1', 'CREATE TABLE t (id int PRIMARY KEY, origin text NOT NULL)');
  await waitFor('table t on n2', async () => (await sql('n2', 'host-2', "SELECT to_regclass('public.t') IS NOT NULL AS ok"))[0].ok, 30_000);
  await sql('n2', 'host-2', "INSERT INTO t VALUES (1, 'n2'), (2, 'n2')");
}, 600_000);

const userNetwork = `${id}-user-net`;

afterAll(async () => {
  if (!stack) return;
  await forceDeleteDatabase(call, id);
  await docker.getNetwork(userNetwork).remove().catch(() => undefined);
  await stack.stop();
});

describe('an MCP service on three hosts', () => {
  it('has one running instance per host, with its address and published port, and no secret in its spec', async () => {
    const db = await database();
    expect(db.service_instances.map((s: any) => s.host_id)).toEqual(['host-1', 'host-2', 'host-3']);
    for (const s of db.service_instances) {
      expect(s).toMatchObject({
        service_instance_id: `${id}-mcp-${s.host_id}`, service_id: 'mcp', database_id: id, state: 'running',
        status: { addresses: [address(s.host_id)], ports: [{ name: 'http', container_port: 8080, host_port: mcpPort }], service_ready: true },
      });
    }
    expect(db.instances.some((i: any) => i.host_id === 'host-3')).toBe(false);
    expect(db.spec.services[0].config).toEqual(llm);
  });

  it('serves MCP on each host: tools listed, and a read returns the rows written on the other node', async () => {
    for (const host of ['host-1', 'host-2', 'host-3']) {
      const client = await mcp(host);
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['query_database', 'get_schema_info', 'execute_explain', 'count_rows']));
      await client.close();
      const rows = await waitFor(`rows of n2 through the MCP service on ${host}`, async () => {
        const r = await queryThrough(host, 'SELECT id, origin FROM t ORDER BY id');
        return !r.isError && JSON.parse(r.text).rows.length === 2 ? JSON.parse(r.text).rows : null;
      }, 30_000, 1000);
      expect(rows).toEqual([{ id: 1, origin: 'n2' }, { id: 2, origin: 'n2' }]);
    }
    await expect(mcp('host-1', false)).rejects.toThrow(/401|nauthorized/);
  });

  it('refuses a write without allow_writes', async () => {
    const r = await queryThrough('host-1', "INSERT INTO t VALUES (3, 'mcp')");
    expect(r).toMatchObject({ isError: true });
    expect(r.text).toMatch(/read-only transaction/);
  });

  it('an unsupported version fails the task and the database; an update to a good version recovers it and drops host-3\'s instance', async () => {
    const bad = await call('POST', `/v1/databases/${id}`, { spec: updateSpec('99.99.99', ['host-1', 'host-2', 'host-3']) });
    expect(bad.status, JSON.stringify(bad.body)).toBe(200);
    const failed = await finished(bad.body.task.task_id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/unsupported version/);
    const db = await database();
    expect(db.state).toBe('failed');
    expect(db.service_instances.some((s: any) => s.state === 'failed' && /unsupported version/.test(s.error))).toBe(true);

    const good = await call('POST', `/v1/databases/${id}`, { spec: updateSpec('1.0.0', ['host-1', 'host-2']) });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    const done = await finished(good.body.task.task_id);
    expect(done.status, done.error).toBe('completed');
    const after = await database();
    expect(after.state).toBe('available');
    expect(after.service_instances.map((s: any) => [s.host_id, s.state])).toEqual([['host-1', 'running'], ['host-2', 'running']]);
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [serviceIds.container(id, 'mcp', 'host-3')] }) })).toEqual([]);
    // the kept API key and the bootstrap token still work: the token is what the client sends
    expect((await queryThrough('host-2', 'SELECT count(*)::int AS n FROM t')).text).toContain('"n": 2');
  });

  it('after a switchover of n1, the same service instance answers again', async () => {
    const before = (await database()).service_instances.map((s: any) => s.service_instance_id);
    const r = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await finished(r.body.task.task_id);
    expect(task.status, task.error).toBe('completed');
    const rows = await waitFor('a read through host-1\'s MCP service after the switchover', async () => {
      const q = await queryThrough('host-1', 'SELECT id FROM t ORDER BY id').catch(() => null);
      return q && !q.isError ? JSON.parse(q.text).rows : null;
    }, 60_000, 1000);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    const after = await database();
    expect(after.service_instances.map((s: any) => s.service_instance_id)).toEqual(before);
    expect(after.service_instances.every((s: any) => s.state === 'running')).toBe(true);
  });

  it('the host\'s monitor reads a dead service container as failed, and running again once it is back', async () => {
    const container = docker.getContainer(serviceIds.container(id, 'mcp', 'host-2'));
    await container.stop({ t: 1 });
    const failed = await waitFor('host-2\'s MCP instance failed', async () => {
      const s = (await database()).service_instances.find((x: any) => x.host_id === 'host-2');
      return s.state === 'failed' ? s : null;
    }, 90_000, 1000);
    expect(failed.status.health_check.status).toBe('unhealthy');
    await container.start();
    await waitFor('host-2\'s MCP instance running again', async () => (await database()).service_instances.find((x: any) => x.host_id === 'host-2').state === 'running', 60_000, 1000);
  });

  it('PostgREST: a missing anon role and a missing schema each fail with a preflight message; then the authenticator is set up on every node and the container step fails, image not available, leaving no container', async () => {
    const mcpContainers = (await database()).service_instances.map((s: any) => s.status.container_id);
    const restUser = { username: 'rest_auth', password: 'rest-auth-password', attributes: ['LOGIN'] };
    const withRest = (config: Record<string, unknown>) => {
      const base = updateSpec('1.0.0', ['host-1', 'host-2']);
      return { ...base, database_users: [...base.database_users, restUser], services: [...base.services, { service_id: 'rest', service_type: 'postgrest', version: 'latest', host_ids: ['host-1'], connect_as: 'rest_auth', config }] };
    };
    const run = async (config: Record<string, unknown>) => {
      const r = await call('POST', `/v1/databases/${id}`, { spec: withRest(config) });
      responses.push(JSON.stringify(r.body));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return finished(r.body.task.task_id);
    };
    const noAnon = await run({ db_anon_role: 'web_anon' });
    expect(noAnon.status).toBe('failed');
    expect(noAnon.error).toMatch(/preflight failed on node n1: anon role "web_anon" \(db_anon_role\) does not exist/);
    const primaries = (await database()).instances.filter((i: any) => i.postgres?.role === 'primary').map((i: any) => ({ node: i.node_name, host: i.host_id }));
    expect(primaries.map((p: any) => p.node).sort()).toEqual(['n1', 'n2']);
    const sql = (p: { node: string; host: string }, text: string) => query(nodeConnection(p.node === 'n1' ? port : port + 1, { host: address(p.host), password: adminPassword }), text);
    for (const p of primaries) await sql(p, 'CREATE ROLE web_anon NOLOGIN'); // roles are per node (not replicated)
    const noSchema = await run({ db_anon_role: 'web_anon', db_schemas: 'api' });
    expect(noSchema.status).toBe('failed');
    expect(noSchema.error).toMatch(/preflight failed on node n1: schema "api" \(db_schemas\) does not exist/);

    const noImage = await run({ db_anon_role: 'web_anon', db_schemas: 'public', jwt_secret: jwtSecret });
    expect(noImage.status).toBe('failed');
    expect(noImage.error).toMatch(/image postgrest\/postgrest:v12\.2\.12 .* is not available on host-1/);
    for (const p of primaries) {
      const [role] = await sql(p, "SELECT r.rolinherit, pg_has_role('rest_auth', 'web_anon', 'MEMBER') AS member FROM pg_roles r WHERE r.rolname = 'rest_auth'");
      expect(role, `rest_auth on node ${p.node}`).toEqual({ rolinherit: false, member: true });
    }
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [serviceIds.container(id, 'rest', 'host-1')] }) })).toEqual([]);
    const db = await database();
    expect(db.service_instances.find((s: any) => s.service_id === 'rest')).toMatchObject({ state: 'failed', error: expect.stringMatching(/is not available/) });
    expect(db.spec.services.find((s: any) => s.service_id === 'rest').config).toEqual({ db_anon_role: 'web_anon', db_schemas: 'public' });
    // adding another service touched only that one: the MCP containers are the same, still running
    const mcpNow = db.service_instances.filter((s: any) => s.service_id === 'mcp');
    expect(mcpNow.map((s: any) => s.status.container_id)).toEqual(mcpContainers);
    expect(mcpNow.every((s: any) => s.state === 'running')).toBe(true);
  });

  it('RAG: a pipeline table that does not exist fails the preflight naming its spec path; with the table in place the container step fails, image not available, leaving no container', async () => {
    const withRag = () => {
      const base = updateSpec('1.0.0', ['host-1', 'host-2']);
      const pipeline = {
        name: 'docs', tables: [{ table: 'docs', text_column: 'body', vector_column: 'embedding', id_column: 'id' }],
        embedding_llm: { provider: 'openai', model: 'text-embedding-3-small', api_key: ragKey }, rag_llm: { provider: 'anthropic', model: 'claude-sonnet-4-5', api_key: ragKey },
      };
      return { ...base, services: [...base.services, { service_id: 'rag', service_type: 'rag', version: 'latest', host_ids: ['host-1'], connect_as: 'admin', config: { pipelines: [pipeline] } }] };
    };
    const run = async () => {
      const r = await call('POST', `/v1/databases/${id}`, { spec: withRag() });
      responses.push(JSON.stringify(r.body));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return finished(r.body.task.task_id);
    };
    const noTable = await run();
    expect(noTable.status).toBe('failed');
    expect(noTable.error).toMatch(/RAG service rag preflight failed on node n1: table "docs" \(pipelines\[0\]\.tables\[0\]\.table\) does not exist/);
    const primary = (await database()).instances.find((i: any) => i.node_name === 'n1' && i.postgres?.role === 'primary');
    const sql = (text: string) => query(nodeConnection(port, { host: address(primary.host_id), password: adminPassword }), text);
    await sql('CREATE EXTENSION IF NOT EXISTS vector');
    await sql('CREATE TABLE docs (id int PRIMARY KEY, body text, embedding vector(3))');
    const noImage = await run();
    expect(noImage.status).toBe('failed');
    expect(noImage.error).toMatch(/image ghcr\.io\/pgedge\/rag-server:1\.0\.0 .* is not available on host-1/);
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [serviceIds.container(id, 'rag', 'host-1')] }) })).toEqual([]);
    const db = await database();
    expect(db.service_instances.find((s: any) => s.service_id === 'rag')).toMatchObject({ state: 'failed', error: expect.stringMatching(/is not available/) });
  });

  it('a pgbouncer pooler follows n1\'s primary across a switchover without an API call: no acknowledged write lost', async () => {
    const poolPort = port + 3;
    const base = updateSpec('1.0.0', ['host-1', 'host-2']);
    const pool = { service_id: 'pool', service_type: 'pgbouncer', version: 'latest', host_ids: ['host-1'], port: poolPort, connect_as: 'admin', database_connection: { target_nodes: ['n1'] } };
    const r = await call('POST', `/v1/databases/${id}`, { spec: { ...base, services: [...base.services, pool] } }); // PostgREST's goes
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const done = await finished(r.body.task.task_id);
    expect(done.status, done.error).toBe('completed');
    const db = await database();
    expect(db.state).toBe('available');
    expect(db.service_instances.map((s: any) => s.service_id)).toEqual(['mcp', 'mcp', 'pool']);
    expect(db.service_instances[2]).toMatchObject({ state: 'running', status: { addresses: ['127.0.0.1'], ports: [{ name: 'tcp', container_port: 8080, host_port: poolPort }] } });

    const n1Primary = async () => (await database()).instances.find((i: any) => i.node_name === 'n1' && i.postgres?.role === 'primary')?.host_id as string | undefined;
    const before = await waitFor('n1 primary', n1Primary, 30_000);
    await query(nodeConnection(port, { host: address(before), password: adminPassword }), 'CREATE TABLE w (id text PRIMARY KEY, node text NOT NULL, payload text NOT NULL)');
    const w = await startWriter([{ node: 'pool', port: poolPort, host: '127.0.0.1' }, { node: 'n1', port, hosts: ['127.0.0.1', '127.0.0.2'] }],
      { user: 'admin', password: adminPassword, database: 'app', table: 'w', ratePerSecond: 20 });
    try {
      await new Promise((res) => setTimeout(res, 3000));
      const sw = await call('POST', `/v1/databases/${id}/nodes/n1/switchover`, {});
      expect(sw.status, JSON.stringify(sw.body)).toBe(200);
      const t = await finished(sw.body.task.task_id);
      expect(t.status, t.error).toBe('completed');
      const switched = Date.now();
      await waitFor('writes through the pooler after the switchover', async () => w.acknowledged.filter((a) => a.node === 'pool' && a.at > switched + 2000).length >= 10, 60_000, 500);
    } finally {
      await w.stop();
    }
    const after = await n1Primary();
    expect(after).not.toBe(before);
    const gap = { pool: w.longestGap('pool'), direct: w.longestGap('n1') };
    console.log(`pooler across a switchover of n1: longest write gap through the pooler ${gap.pool} ms, through a multi-host connection string ${gap.direct} ms; ${w.acknowledged.length} rows acknowledged, ${w.errors.length} refused meanwhile`);
    // the pooler now reaches the new primary, and every acknowledged row is there
    const through = await query({ host: '127.0.0.1', port: poolPort, user: 'admin', password: adminPassword, database: 'app' }, 'SELECT pg_is_in_recovery() AS r');
    expect(through[0].r).toBe(false);
    const ids = w.acknowledged.map((a) => a.id);
    const rows = await query(nodeConnection(port, { host: address(after!), password: adminPassword }), 'SELECT count(*)::int AS n FROM w WHERE id = ANY ($1)', [ids]);
    expect(rows[0].n).toBe(ids.length);
  });

  it('keeps connect_as\'s password in no file on the host (.data with the services\' directories, Docker\'s files of the service containers): only on their tmpfs', async () => {
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`, `${labels.purpose}=service`] }) });
    expect(containers.length).toBe(3); // the MCP server on host-1 and host-2, the pooler
    // the stack's data directory: where the Temporal dev server keeps its SQLite file (another checkout's, if reused)
    const temporal = execFileSync('ps', ['-eo', 'args']).toString().split('\n').find((l) => l.includes('start-dev') && l.includes('--db-filename'));
    const stackDir = path.dirname(path.dirname(/--db-filename (\S+)/.exec(temporal ?? '')?.[1] ?? path.join(projectRoot, '.data', 'test-stack', 'temporal', 'x')));
    const dirs = [path.join(projectRoot, '.data'), stackDir];
    for (const c of containers) {
      const info = await docker.getContainer(c.Id).inspect();
      expect(JSON.stringify(info), `docker inspect ${c.Names[0]}`).not.toContain(adminPassword);
      dirs.push(path.dirname(info.LogPath), ...[(info.GraphDriver.Data as { UpperDir?: string } | undefined)?.UpperDir].filter((d): d is string => !!d));
      for (const m of info.Mounts) if (m.Source) dirs.push(m.Source);
      const inside = await execIn(docker, c.Id, ['sh', '-c', 'grep " /run/pgcp " /proc/mounts; cat /run/pgcp/*'], { user: 'root' });
      expect(inside.lines.join('\n')).toMatch(/^tmpfs \/run\/pgcp tmpfs /m);
      expect(inside.lines.join('\n'), `${c.Names[0]}'s tmpfs`).toContain(adminPassword);
    }
    expect(dirs.some((d) => d.includes(`${path.sep}services${path.sep}`))).toBe(true); // the MCP server's directory is read too
    // raw bytes (-a), sockets and FIFOs skipped; a file that vanished meanwhile (exit 2) does not hide the others
    let out: string;
    try {
      out = execFileSync('grep', ['-r', '-l', '-a', '-s', '-D', 'skip', '-F', '-e', adminPassword, ...new Set(dirs)], { maxBuffer: 1 << 24 }).toString();
    } catch (err) {
      const e = err as { status?: number; stdout?: Buffer };
      if (e.status !== 1 && e.status !== 2) throw err;
      out = e.stdout?.toString() ?? '';
    }
    expect(out.split('\n').filter(Boolean)).toEqual([]);
  });

  it('shows the service\'s secrets in no response, task log or workflow history', async () => {
    const codecs = [...stack!.temporal.workflow.options.loadedDataConverter.payloadCodecs].reverse();
    for (const taskId of taskIds) {
      const log = JSON.stringify((await call('GET', `/v1/databases/${id}/tasks/${taskId}/log`)).body);
      const history = await stack!.temporal.workflow.getHandle(taskId).fetchHistory();
      for (const codec of codecs) await decodeHistoryPayloads(codec, history.events ?? []);
      // every payload's bytes as text: the decoded inputs and results of every activity
      const decoded = [...JSON.stringify(history.events).matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
      expect(decoded).toContain(`"databaseId":"${id}"`); // really decoded: the activities' inputs are readable
      for (const s of secrets) {
        expect(log, `task ${taskId}'s log`).not.toContain(s);
        expect(decoded, `task ${taskId}'s history`).not.toContain(s);
      }
    }
    for (const r of responses) for (const s of secrets) expect(r).not.toContain(s);
  });

  it('orchestrator_opts of a service: extra_volumes refused naming the field; extra_labels and extra_networks reach its containers', async () => {
    const withOpts = (swarm: Record<string, unknown>) => {
      const base = updateSpec('1.0.0', ['host-1', 'host-2']);
      return { ...base, services: base.services.map((x: any) => ({ ...x, orchestrator_opts: { swarm } })) };
    };
    const refused = await call('POST', `/v1/databases/${id}`, { spec: withOpts({ extra_volumes: [{ host_path: '/srv', destination_path: '/x' }] }) });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('services[0].orchestrator_opts.swarm.extra_volumes: extra_volumes are not supported for services');
    await docker.createNetwork({ Name: userNetwork, Labels: { 'pgcp-test': 'services' } });
    const r = await call('POST', `/v1/databases/${id}`, { spec: withOpts({ extra_labels: { team: 'data' }, extra_networks: [{ id: userNetwork, aliases: ['mcp-api'] }] }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const done = await finished(r.body.task.task_id);
    expect(done.status, done.error).toBe('completed');
    for (const host of ['host-1', 'host-2']) {
      const info = await docker.getContainer(serviceIds.container(id, 'mcp', host)).inspect();
      expect(info.Config.Labels.team, host).toBe('data');
      expect(info.NetworkSettings.Networks[userNetwork]?.Aliases ?? [], host).toContain('mcp-api');
    }
    await waitFor('the MCP instances running again', async () => (await database()).service_instances.filter((x: any) => x.service_id === 'mcp').every((x: any) => x.state === 'running'), 120_000, 1000);
  });

  it('deleting the database removes its service containers and leaves nothing labelled with it', async () => {
    const del = await call('DELETE', `/v1/databases/${id}`);
    expect(del.status).toBe(200);
    const done = await finished(del.body.task.task_id);
    expect(done.status, done.error).toBe('completed');
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${labels.databaseId}=${id}`] }) });
    expect(left.map((c) => c.Names)).toEqual([]);
  });
});
