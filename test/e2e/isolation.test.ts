// What a database superuser reaches from inside its container (`COPY … TO PROGRAM`, as the OS user postgres), and
// what an unprivileged local user reaches: never another database's etcd keys, the store, Temporal, or another
// database's Patroni REST API without its credentials. Two small databases: A (a primary and a replica, so its
// own switchover is checked afterwards) and B (one instance).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from '../../activities/docker/client.js';
import { countPrefix, etcdDatabaseUser, EtcdError } from '../../activities/etcd.js';
import { dockerBridgeAddress, projectRoot, secretFiles, stackPorts } from '../../platform/config.js';
import { stackSecretsDir } from '../../scripts/stack.js';
import { ids } from '../../workflows/model/ids.js';
import { startApiStack, type ApiStack } from '../support/api-stack.js';
import { stackEtcd } from '../support/etcd.js';
import { nodeConnection } from '../support/sql.js';
import { waitFor } from '../support/wait.js';
import { expectTaskCompleted, forceDeleteDatabase, waitForTask } from '../support/tasks.js';
import { freePorts } from '../support/ports.js';

const docker = createDocker();
const suffix = Math.random().toString(36).slice(2, 7);
const a = `iso-${suffix}`;
/** `a`'s id is a prefix of `b`'s: the prefix of a's etcd role must not cover b's keys. */
const b = `iso-${suffix}-b`;
const port = await freePorts(2);
const user = { username: 'admin', password: 'password', db_owner: true, attributes: ['SUPERUSER', 'LOGIN'] };
const specA = { database_name: 'app', database_users: [user], nodes: [{ name: 'n1', host_ids: ['host-1', 'host-2'], port }] };
const specB = { database_name: 'app', database_users: [user], nodes: [{ name: 'n1', host_ids: ['host-1'], port: port + 1 }] };
let s: ApiStack;

const containerIp = async (instanceId: string, databaseId: string) =>
  (await docker.getContainer(instanceId).inspect()).NetworkSettings.Networks[ids.network(databaseId)]!.IPAddress;

/** Runs a Python script in A's primary as a database superuser can (COPY … FROM PROGRAM) and returns its JSON. */
async function probeFromA(script: string): Promise<Record<string, [number | null, string] | string>> {
  const c = new pg.Client(nodeConnection(port, { password: 'password' }));
  await c.connect();
  try {
    await c.query('CREATE TEMP TABLE probe (out text)');
    const program = `echo ${Buffer.from(script).toString('base64')} | base64 -d | python3 2>&1 | base64 -w0`;
    await c.query(`COPY probe FROM PROGRAM ${pg.escapeLiteral(program)}`);
    const { rows } = await c.query<{ out: string }>('SELECT out FROM probe');
    const text = Buffer.from(rows.map((r) => r.out).join(''), 'base64').toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`the probe printed: ${text}`);
    }
  } finally {
    await c.end();
  }
}

const primaryOf = async (id: string) =>
  ((await s.call('GET', `/v1/databases/${id}`)).body.instances as any[]).find((i) => i.postgres?.role === 'primary')?.id as string | undefined;

beforeAll(async () => {
  s = await startApiStack(['host-1', 'host-2']);
  const [ca, cb] = [await s.call('POST', '/v1/databases', { id: a, spec: specA }), await s.call('POST', '/v1/databases', { id: b, spec: specB })];
  expect(ca.status, JSON.stringify(ca.body)).toBe(200);
  expect(cb.status, JSON.stringify(cb.body)).toBe(200);
  await expectTaskCompleted(s.call, a, ca.body.task.task_id, { timeoutMs: 300_000 });
  await expectTaskCompleted(s.call, b, cb.body.task.task_id, { timeoutMs: 300_000 });
}, 420_000);

afterAll(async () => {
  if (!s) return;
  await forceDeleteDatabase(s.call, a);
  await forceDeleteDatabase(s.call, b);
  await s.stop();
});

describe('from inside database A, as a database superuser', () => {
  it("cannot read or write B's etcd keys, nor reach the store, Temporal or B's Patroni REST API", async () => {
    const bridge = dockerBridgeAddress()!;
    const bIp = await containerIp(ids.instance(b, 'n1', 'host-1'), b);
    const script = `
import base64, json, socket, ssl, urllib.request, urllib.error
ETCD = 'https://${bridge}:${stackPorts.etcd}'
own = json.load(open('/run/pgcp/patroni.yml'))['etcd3']
ctx = ssl.create_default_context(cafile=own.get('cacert'))
A, B = ${JSON.stringify(ids.patroniDatabaseKeys(a))}, ${JSON.stringify(ids.patroniDatabaseKeys(b))}
enc = lambda s: base64.b64encode(s.encode()).decode()
end = lambda p: p[:-1] + chr(ord(p[-1]) + 1)
def post(url, body, headers={}):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={'content-type': 'application/json', **headers}, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=3, context=ctx if url.startswith('https:') else None) as r: return [r.status, r.read().decode()]
    except urllib.error.HTTPError as e: return [e.code, e.read().decode()]
    except Exception as e: return [None, repr(e)]
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close(); return 'connected'
    except Exception as e: return repr(e)
out = {'protocol': own.get('protocol')}
out['plain_http'] = post(ETCD.replace('https:', 'http:') + '/v3/kv/range', {'key': enc(B), 'range_end': enc(end(B))})
out['b_anonymous'] = post(ETCD + '/v3/kv/range', {'key': enc(B), 'range_end': enc(end(B))})
out['root_with_a_password'] = post(ETCD + '/v3/auth/authenticate', {'name': 'root', 'password': own.get('password', '')})
token = json.loads(post(ETCD + '/v3/auth/authenticate', {'name': own.get('username', ''), 'password': own.get('password', '')})[1]).get('token', '')
h = {'Authorization': token}
out['a_own'] = post(ETCD + '/v3/kv/range', {'key': enc(A), 'range_end': enc(end(A)), 'count_only': True}, h)
out['b_read'] = post(ETCD + '/v3/kv/range', {'key': enc(B), 'range_end': enc(end(B))}, h)
out['b_write'] = post(ETCD + '/v3/kv/put', {'key': enc(B + 'n1/config'), 'value': enc('{}')}, h)
out['b_delete_leader'] = post(ETCD + '/v3/kv/deleterange', {'key': enc(B + 'n1/leader')}, h)
out['everything'] = post(ETCD + '/v3/kv/range', {'key': enc('/'), 'range_end': enc('0')}, h)
out['store'] = tcp('${bridge}', ${stackPorts.store})
out['temporal'] = tcp('${bridge}', ${stackPorts.temporal})
out['temporal_ui'] = tcp('${bridge}', ${stackPorts.temporalUi})
out['b_patroni_restart'] = post('http://${bIp}:8008/restart', {})
print(json.dumps(out))
`;
    const out = await probeFromA(script);
    // etcd's error as text: 3.4's gateway answers {"error": …}, 3.5's {"message": …}.
    const etcdError = (r: unknown) => ({ error: (r as [number, string])[1] });
    // etcd speaks TLS only (Patroni checks its certificate against the CA it was given); without credentials it
    // answers nothing; with A's own credentials only A's keys.
    expect(out.protocol).toBe('https');
    expect((out.plain_http as [number | null, string])[0] ?? 400, JSON.stringify(out.plain_http)).toBe(400);
    expect(etcdError(out.b_anonymous).error).toMatch(/user name is empty/);
    expect(etcdError(out.root_with_a_password).error).toMatch(/authentication failed/);
    expect(Number((JSON.parse((out.a_own as [number, string])[1]) as { count?: string }).count)).toBeGreaterThan(0);
    for (const k of ['b_read', 'b_write', 'b_delete_leader', 'everything']) expect(etcdError(out[k]).error, k).toMatch(/permission denied/);
    // The store and Temporal listen on the host's loopback only.
    for (const k of ['store', 'temporal', 'temporal_ui']) expect(out[k], k).toMatch(/ConnectionRefused|timed out|unreachable/i);
    // B's containers are on another Docker network: not reachable; were they, Patroni would ask for credentials.
    const rest = out.b_patroni_restart as [number | null, string];
    expect(rest[0] === null || rest[0] === 401, JSON.stringify(rest)).toBe(true);
    // B's keys are all still there.
    expect(await countPrefix(stackEtcd(), ids.patroniKeys(b, 'n1') + 'leader')).toBe(1);
  }, 60_000);

  it("B's Patroni REST API refuses unsafe calls without B's credentials, even from the host", async () => {
    const bIp = await containerIp(ids.instance(b, 'n1', 'host-1'), b);
    const anonymous = await fetch(`http://${bIp}:8008/restart`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`http://${bIp}:8008/config`, { method: 'PATCH', body: '{"ttl": 30}', headers: { authorization: `Basic ${Buffer.from('pgcp:wrong').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });

  it("A's own switchover still works", async () => {
    await waitFor("A's replica streaming", async () =>
      ((await s.call('GET', `/v1/databases/${a}/status`)).body?.replicas ?? []).some((r: any) => r.state === 'streaming'), 60_000);
    const before = await primaryOf(a);
    const r = await s.call('POST', `/v1/databases/${a}/nodes/n1/switchover`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await waitForTask(s.call, a, r.body.task.task_id, { timeoutMs: 180_000 }).catch(() => null);
    const log = task?.status === 'completed' ? null : (await s.call('GET', `/v1/databases/${a}/tasks/${r.body.task.task_id}/log`)).body;
    if (task?.status !== 'completed') {
      for (const host of ['host-1', 'host-2']) {
        const logs = await docker.getContainer(ids.instance(a, 'n1', host)).logs({ stdout: true, stderr: true, tail: 40 });
        console.error(`--- ${host}\n${logs.toString('utf8')}`);
      }
    }
    expect(task?.status, JSON.stringify(log?.entries?.slice(-8))).toBe('completed');
    const after = await primaryOf(a);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  }, 200_000);

  it("deleting B removes its etcd user and role", async () => {
    expect((await stackEtcd().call<{ roles?: string[] }>('/v3/auth/user/get', { name: etcdDatabaseUser(b) })).roles).toEqual([etcdDatabaseUser(b)]);
    const del = await s.call('DELETE', `/v1/databases/${b}`);
    expect(del.status).toBe(200);
    await expectTaskCompleted(s.call, b, del.body.task.task_id, { timeoutMs: 120_000 });
    await expect(stackEtcd().call('/v3/auth/user/get', { name: etcdDatabaseUser(b) })).rejects.toThrow(EtcdError);
    await expect(stackEtcd().call('/v3/auth/role/get', { role: etcdDatabaseUser(b) })).rejects.toThrow(/not found/);
  }, 150_000);
});

describe('a local unprivileged user', () => {
  const dataDir = stackSecretsDir(path.join(projectRoot, '.data', 'test-stack'));
  const asNobody = (cmd: string, args: string[]) => {
    try {
      return { ok: true, out: execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString() };
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      return { ok: false, out: `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}` };
    }
  };

  it('can connect to neither the store nor read etcd keys, nor read their credentials', () => {
    const store = asNobody('psql', ['-w', '-h', '127.0.0.1', '-p', String(stackPorts.store), '-U', 'pgcp', '-d', 'postgres', '-c', 'SELECT 1']);
    expect(store.ok).toBe(false);
    expect(store.out).toMatch(/password/);
    // (nobody cannot read the CA in the stack's 0700 PKI directory: its certificate goes unchecked here)
    const etcd = asNobody('/usr/bin/python3', ['-c', `import urllib.request, base64, ssl
k = base64.b64encode(b'/').decode(); e = base64.b64encode(b'0').decode()
r = urllib.request.Request('https://127.0.0.1:${stackPorts.etcd}/v3/kv/range', data=('{"key":"%s","range_end":"%s"}' % (k, e)).encode(), method='POST')
try: print(urllib.request.urlopen(r, context=ssl._create_unverified_context()).read().decode())
except Exception as x: print(x.read().decode() if hasattr(x, 'read') else repr(x))`]);
    expect(etcd.out).toMatch(/user name is empty/);
    for (const f of [secretFiles(dataDir).store, secretFiles(dataDir).etcdRoot]) {
      expect(asNobody('cat', [f]).ok, f).toBe(false);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
  });

  it("finds no store socket, and the stack's logs and Temporal's database are the owner's alone", () => {
    expect(readdirSync(path.join(dataDir, 'store')).filter((f) => f.startsWith('.s.PGSQL'))).toEqual([]);
    const logs = readdirSync(path.join(dataDir, 'logs')).filter((f) => f.endsWith('.log'));
    expect(logs.length).toBeGreaterThan(0);
    for (const f of logs) expect(statSync(path.join(dataDir, 'logs', f)).mode & 0o777, f).toBe(0o600);
    const db = path.join(dataDir, 'temporal', 'temporal.db');
    expect(existsSync(db)).toBe(true);
    expect(statSync(db).mode & 0o077).toBe(0);
  });
});
