// etcd v3 through its JSON gateway: only what the control plane needs — Patroni's keys of a node, and the users and
// roles that confine each database's Patroni to its own keys. With authentication on, every call carries a token
// from POST /v3/auth/authenticate; a token etcd no longer knows (it restarted, the password changed) is renewed once.
// Over https (etcd serving client TLS), the server's certificate is checked against the CA given (the cluster's).
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ids } from '../workflows/model/ids.js';

export interface EtcdCredentials { user: string; password: string }

/** One etcd endpoint and, when authentication is on, who the control plane is there (root). */
export interface Etcd {
  url: string;
  /** PEM of the CA etcd's server certificate chains to (https), else null (the system's roots). */
  ca: string | null;
  /** Whether calls authenticate: etcd's auth is on and this process holds a credential. */
  authenticated: boolean;
  /**
   * Whether that credential is etcd's root, which alone may make users and roles. A joined host's agent holds its
   * own user instead (readwrite on Patroni's keys only): the control-plane worker makes each database's user.
   */
  canManageUsers: boolean;
  /** POST `path` (e.g. /v3/kv/range) with a JSON body; etcd's error (code and message) becomes an EtcdError. */
  call<T = Record<string, unknown>>(path: string, body: Record<string, unknown>): Promise<T>;
}

export class EtcdError extends Error {
  constructor(readonly path: string, readonly code: number | null, readonly etcdMessage: string) {
    super(`etcd ${path}: ${etcdMessage}`);
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** etcd's gRPC codes as the gateway returns them. */
const unauthenticated = 16;

/** One request (POST by default) to etcd's gateway (http or https with `ca`), within 5 s: its status and body. */
export function etcdPost(url: string, path: string, body: string, headers: Record<string, string>, ca: string | null, method = 'POST'): Promise<{ ok: boolean; status: number; text: string }> {
  const target = new URL(`${url}${path}`);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, {
      method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(5000),
      ...(target.protocol === 'https:' && ca ? { ca } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function post<T>(url: string, path: string, body: Record<string, unknown>, token: string | null, ca: string | null): Promise<T> {
  const res = await etcdPost(url, path, JSON.stringify(body), { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) }, ca);
  const text = res.text;
  let parsed: { error?: string; message?: string; code?: number } & Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new EtcdError(path, null, `HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  if (!res.ok || parsed.error) throw new EtcdError(path, parsed.code ?? null, (parsed.message ?? parsed.error ?? `HTTP ${res.status}`).replace(/^etcdserver: /, ''));
  return parsed as T;
}

export async function authenticate(url: string, c: EtcdCredentials, ca: string | null = null): Promise<string> {
  const { token } = await post<{ token: string }>(url, '/v3/auth/authenticate', { name: c.user, password: c.password }, null, ca);
  return token;
}

/** `ca`: PEM of the CA of etcd's server certificate, for an https URL. */
export function createEtcd(url: string, credentials: EtcdCredentials | null, ca: string | null = null): Etcd {
  let token: Promise<string> | null = null;
  const fresh = () => {
    token = authenticate(url, credentials!, ca);
    token.catch(() => { token = null; });
    return token;
  };
  return {
    url,
    ca,
    authenticated: credentials !== null,
    canManageUsers: credentials !== null && credentials.user === 'root',
    async call<T>(path: string, body: Record<string, unknown>): Promise<T> {
      if (!credentials) return post<T>(url, path, body, null, ca);
      try {
        return await post<T>(url, path, body, await (token ?? fresh()), ca);
      } catch (err) {
        const stale = err instanceof EtcdError && (err.code === unauthenticated || /auth token|revision of auth store is old/.test(err.etcdMessage));
        if (!stale) throw err;
        return post<T>(url, path, body, await fresh(), ca);
      }
    },
  };
}

/** The key right after every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1]! += 1;
  return bytes.toString('utf8');
}

export async function deletePrefix(etcd: Etcd, prefix: string): Promise<number> {
  const body = await etcd.call<{ deleted?: string }>('/v3/kv/deleterange', { key: b64(prefix), range_end: b64(prefixEnd(prefix)) });
  return Number(body.deleted ?? 0);
}

export async function countPrefix(etcd: Etcd, prefix: string): Promise<number> {
  const body = await etcd.call<{ count?: string }>('/v3/kv/range', { key: b64(prefix), range_end: b64(prefixEnd(prefix)), count_only: true });
  return Number(body.count ?? 0);
}

const exists = (err: unknown) => err instanceof EtcdError && /already exists/.test(err.etcdMessage);
const missing = (err: unknown) => err instanceof EtcdError && /not found/.test(err.etcdMessage);
const ignore = (test: (err: unknown) => boolean) => (err: unknown) => { if (!test(err)) throw err; };

/**
 * Turns etcd's authentication on with `root` as its root user, once: an etcd whose auth is on with this password is
 * left alone (a restart, a second start); one without auth (data of an earlier version) gets it now. A root with
 * another password is an error naming the file the password comes from.
 */
export async function ensureEtcdAuth(url: string, root: EtcdCredentials, passwordFile: string, ca: string | null = null): Promise<'enabled' | 'already'> {
  try {
    await authenticate(url, root, ca);
    return 'already';
  } catch (err) {
    if (!(err instanceof EtcdError) || !/authentication is not enabled/.test(err.etcdMessage)) {
      throw new Error(`etcd at ${url} has authentication on, but not with the root password in ${passwordFile}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const open = createEtcd(url, null, ca);
  await open.call('/v3/auth/user/add', { name: root.user, password: root.password }).catch(async (err: unknown) => {
    if (!exists(err)) throw err;
    await open.call('/v3/auth/user/changepw', { name: root.user, password: root.password });
  });
  await open.call('/v3/auth/role/add', { name: 'root' }).catch(ignore(exists));
  await open.call('/v3/auth/user/grant', { user: root.user, role: 'root' });
  await open.call('/v3/auth/enable', {});
  return 'enabled';
}

/** The etcd user (and its role) of a database's Patroni: read and write under the database's keys, nothing else. */
export const etcdDatabaseUser = (databaseId: string) => `pgcp-db-${databaseId}`;

export const newEtcdPassword = () => randomBytes(24).toString('base64url');

/**
 * Creates or repairs the database's etcd user and role: readwrite on its key prefix only (ids.patroniDatabaseKeys),
 * the password the store holds. Idempotent: an existing user gets the password again, an existing role the grant.
 */
export async function ensureDatabaseEtcdUser(etcd: Etcd, databaseId: string, password: string): Promise<void> {
  const name = etcdDatabaseUser(databaseId);
  const prefix = ids.patroniDatabaseKeys(databaseId);
  // Read before adding: an add of an existing role makes etcd log an error on every delivery.
  const getRole = () => etcd.call<{ perm?: { permType?: string; key?: string; range_end?: string }[] }>('/v3/auth/role/get', { role: name });
  let role = await getRole().catch((err: unknown) => {
    if (missing(err)) return null;
    throw err;
  });
  if (!role) {
    await etcd.call('/v3/auth/role/add', { name }).catch(ignore(exists));
    role = await getRole();
  }
  const granted = (role.perm ?? []).some((p) => p.permType === 'READWRITE' && p.key === b64(prefix) && p.range_end === b64(prefixEnd(prefix)));
  if (!granted) await etcd.call('/v3/auth/role/grant', { name, perm: { permType: 'READWRITE', key: b64(prefix), range_end: b64(prefixEnd(prefix)) } });
  const user = await etcd.call<{ roles?: string[] }>('/v3/auth/user/get', { name }).catch((err: unknown) => {
    if (missing(err)) return null;
    throw err;
  });
  if (!user) {
    await etcd.call('/v3/auth/user/add', { name, password }).catch(ignore(exists));
  } else if (await authenticate(etcd.url, { user: name, password }, etcd.ca).then(() => false, () => true)) {
    await etcd.call('/v3/auth/user/changepw', { name, password });
  }
  if (!user?.roles?.includes(name)) await etcd.call('/v3/auth/user/grant', { user: name, role: name });
}

/** A joined host's own etcd user (and role of the same name): `pgcp-host-<host id>-<random>`, fresh per issue. */
export const newHostEtcdUser = (hostId: string) => `pgcp-host-${hostId}-${randomBytes(4).toString('hex')}`;

/**
 * Makes a host's etcd user: readwrite on Patroni's keys (ids.patroniNamespace) — what its agent reads (leader keys,
 * for fencing and fast failover) and clears (a node's keys before a restore) — and nothing else: it cannot manage
 * users or roles, nor read or write outside that prefix.
 */
export async function createHostEtcdUser(etcd: Etcd, name: string, password: string): Promise<void> {
  const prefix = ids.patroniNamespace;
  await etcd.call('/v3/auth/role/add', { name }).catch(ignore(exists));
  await etcd.call('/v3/auth/role/grant', { name, perm: { permType: 'READWRITE', key: b64(prefix), range_end: b64(prefixEnd(prefix)) } });
  await etcd.call('/v3/auth/user/add', { name, password }).catch(async (err: unknown) => {
    if (!exists(err)) throw err;
    await etcd.call('/v3/auth/user/changepw', { name, password });
  });
  await etcd.call('/v3/auth/user/grant', { user: name, role: name });
}

/** An etcd user and its role of the same name (a host's, at its removal); absent ones are fine. */
export async function removeEtcdUser(etcd: Etcd, name: string): Promise<void> {
  await etcd.call('/v3/auth/user/delete', { name }).catch(ignore(missing));
  await etcd.call('/v3/auth/role/delete', { role: name }).catch(ignore(missing));
}

/** The database's etcd user and role; absent ones are fine. */
export async function removeDatabaseEtcdUser(etcd: Etcd, databaseId: string): Promise<void> {
  const name = etcdDatabaseUser(databaseId);
  await etcd.call('/v3/auth/user/delete', { name }).catch(ignore(missing));
  await etcd.call('/v3/auth/role/delete', { role: name }).catch(ignore(missing));
}

/** The value of one key, or null when it does not exist. */
export async function getValue(etcd: Etcd, key: string): Promise<string | null> {
  const kv = (await etcd.call<{ kvs?: { value?: string }[] }>('/v3/kv/range', { key: b64(key) })).kvs?.[0];
  return kv ? Buffer.from(kv.value ?? '', 'base64').toString('utf8') : null;
}

/**
 * Deletes `key` only while it still holds `value` (one etcd transaction: compare, then delete): true when this call
 * deleted it, false when the key was gone or held something else.
 */
export async function deleteIfValue(etcd: Etcd, key: string, value: string): Promise<boolean> {
  const body = await etcd.call<{ succeeded?: boolean; responses?: { response_delete_range?: { deleted?: string } }[] }>('/v3/kv/txn', {
    compare: [{ key: b64(key), result: 'EQUAL', target: 'VALUE', value: b64(value) }],
    success: [{ request_delete_range: { key: b64(key) } }],
  });
  return body.succeeded === true && Number(body.responses?.[0]?.response_delete_range?.deleted ?? 0) > 0;
}
