// Patroni's REST API on an instance (port 8008 inside the database network, or the node's published patroni_port
// on another engine: activities/addresses.ts).
import { patroniUrl, type InstanceAddress } from '../addresses.js';
import { patroniApiUser } from './config.js';

/** The database's Patroni REST credentials: every unsafe call (POST, PATCH) sends them; reads need none. */
export interface PatroniAuth { patroniApiPassword: string }

export interface PatroniStatus {
  state: string;
  role: 'primary' | 'replica' | 'unknown';
  pendingRestart: boolean;
  serverVersion: number | null;
}

export interface PatroniMember { name: string; role: string; state: string; lag?: number | string; timeline?: number }
export interface PatroniCluster { leader: string | null; members: PatroniMember[] }

async function get<T>(address: InstanceAddress, path: string): Promise<T | null> {
  const base = patroniUrl(address);
  if (!base) return null; // not reachable from here: like a member that does not answer
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
    // /patroni answers 503 on a replica or when Postgres is down, with the same body.
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

export function normalizeRole(role: string | undefined): PatroniStatus['role'] {
  if (role === 'master' || role === 'primary') return 'primary';
  if (role === 'replica' || role === 'standby_leader' || role === 'sync_standby') return 'replica';
  return 'unknown';
}

export async function getPatroniStatus(address: InstanceAddress): Promise<PatroniStatus | null> {
  const body = await get<{ state?: string; role?: string; pending_restart?: boolean; server_version?: number }>(address, '/patroni');
  if (!body) return null;
  return { state: body.state ?? 'unknown', role: normalizeRole(body.role), pendingRestart: body.pending_restart === true, serverVersion: body.server_version ?? null };
}

export const isLeaderRole = (role: string) => role === 'leader' || role === 'master' || role === 'standby_leader';

/** GET /cluster: the members with their replication lag (bytes; "unknown" when Patroni cannot tell). */
export async function getPatroniCluster(address: InstanceAddress): Promise<PatroniCluster | null> {
  const body = await get<{ members?: PatroniMember[] }>(address, '/cluster');
  if (!body?.members) return null;
  return { leader: body.members.find((m) => isLeaderRole(m.role))?.name ?? null, members: body.members };
}

/** "150020" → "15.20", "180006" → "18.6". */
export function formatServerVersion(n: number | null): string | undefined {
  if (!n) return undefined;
  return `${Math.floor(n / 10000)}.${n % 10000}`;
}

/** The dynamic configuration (GET /config) as Patroni holds it in the DCS. */
export async function getDynamicConfig(address: InstanceAddress): Promise<{ postgresql?: { parameters?: Record<string, unknown>; pg_hba?: string[]; pg_ident?: string[] }; slots?: Record<string, unknown>; synchronous_mode?: boolean | string } | null> {
  return get(address, '/config');
}

/** PATCH /config: Patroni merges it into the DCS and every member applies it at its next cycle. */
export async function patchDynamicConfig(address: InstanceAddress, auth: PatroniAuth, patch: Record<string, unknown>): Promise<void> {
  await send(address, auth, 'PATCH', 'config', patch, 5000, 'the configuration change');
}

/**
 * POST /switchover, /failover or /restart. Patroni answers once it has acted (or scheduled); a refusal (412, 503)
 * carries its reason as text, which becomes the step's error.
 */
export async function postPatroni(address: InstanceAddress, auth: PatroniAuth, action: 'switchover' | 'failover' | 'restart', body: Record<string, unknown>): Promise<string> {
  return send(address, auth, 'POST', action, body, 60_000, `the ${action}`);
}

export const basicAuth = (auth: PatroniAuth) => `Basic ${Buffer.from(`${patroniApiUser}:${auth.patroniApiPassword}`).toString('base64')}`;

async function send(address: InstanceAddress, auth: PatroniAuth, method: string, path: string, body: unknown, timeoutMs: number, what: string): Promise<string> {
  const base = patroniUrl(address);
  if (!base) throw new Error(`Patroni at ${address.host} is not reachable from this host for ${what}: its node publishes no patroni_port`);
  const res = await fetch(`${base}/${path}`, {
    method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: basicAuth(auth) }, signal: AbortSignal.timeout(timeoutMs),
  });
  const text = (await res.text()).trim();
  if (!res.ok) throw new Error(`Patroni refused ${what}: ${res.status} ${text}`);
  return text;
}
