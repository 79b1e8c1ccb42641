// npm run rotate-credentials — on a host that joined a cluster: replaces its own credentials (store role, etcd user,
// client certificate) with new ones, without downtime.
//   1. asks the server that issued them (the membership's leader) for a new generation, proving who it is with its
//      current store password; both generations are valid from then on;
//   2. writes them where the host keeps them (cluster-membership.json and pki/, 0600): this host's API and agent see
//      the file change and restart on the new credentials (their supervisor starts them again; the databases' own
//      processes are not touched);
//   3. waits until no session of the old store role is left and the new one has some (the processes switched), then confirms with the new
//      password: the server revokes the older generations (role dropped, etcd user removed, certificate revoked).
// --no-wait confirms at once (processes still on the old role lose their sessions and restart); --timeout <s>.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../platform/config.js';
import { keepJoin, membershipPki, readMembership, withMembership, type Membership } from '../platform/membership.js';
import { tlsFetch } from '../sdk/tls-fetch.js';

const { values } = parseArgs({ options: { 'no-wait': { type: 'boolean', default: false }, timeout: { type: 'string', default: '120' } } });
const base = loadConfig();
const m = readMembership(base.dataDir);
if (!m) {
  console.error(`${base.dataDir} holds no cluster membership: this host did not join a cluster (POST /v1/cluster/join)`);
  process.exit(1);
}
const pki = membershipPki(base.dataDir);
const send: (r: Request) => Promise<Response> = m.credentials.client_cert
  ? tlsFetch({ ca: readFileSync(pki.ca), cert: readFileSync(pki.cert), key: readFileSync(pki.key) })
  : (r) => fetch(r);

async function call(path: string, body: unknown): Promise<Response> {
  const res = await send(new Request(`${m!.leader.server_url.replace(/\/+$/, '')}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
  }));
  if (!res.ok) {
    const text = await res.text();
    throw new Error(`${m!.leader.server_url}${path}: ${res.status} ${text.slice(0, 300)}`);
  }
  return res;
}

const oldUrl = new URL(m.store.url);
const oldRole = decodeURIComponent(oldUrl.username);
const t0 = performance.now();
const issued = await (await call('/v1/internal/cluster/host-credentials', { host_id: m.host_id, store_password: decodeURIComponent(oldUrl.password) })).json() as {
  generation: number; store: { url: string }; credentials: Membership['credentials'];
};
const next: Membership = { ...m, store: issued.store, credentials: issued.credentials };
keepJoin(base, next);
const newUrl = new URL(issued.store.url);
console.log(`${m.host_id}: credentials generation ${issued.generation} written (store role ${decodeURIComponent(newUrl.username)}${issued.credentials.username ? `, etcd user ${issued.credentials.username}` : ''}${issued.credentials.client_cert ? ', a new client certificate' : ''})`);

if (!values['no-wait']) {
  // The host's processes restart on the new files; the old role's sessions end with them.
  const store = new pg.Client({ connectionString: withMembership(base, next).storeUrl });
  await store.connect();
  try {
    const deadline = Date.now() + Number(values.timeout) * 1000;
    for (;;) {
      // switched: nothing on the old role, and the restarted processes on the new one (besides this script)
      const { rows } = await store.query<{ n: number; fresh: number }>(
        'SELECT count(*) FILTER (WHERE usename = $1)::int AS n, count(*) FILTER (WHERE usename = current_user AND pid <> pg_backend_pid())::int AS fresh FROM pg_stat_activity',
        [oldRole],
      );
      if (rows[0]!.n === 0 && rows[0]!.fresh > 0) break;
      if (Date.now() > deadline) {
        console.error(`${rows[0]!.n} session(s) of ${oldRole} still open after ${values.timeout} s: restart this host's API and agent, then run again with --no-wait to revoke the old credentials`);
        process.exit(2);
      }
      await sleep(1000);
    }
  } finally {
    await store.end();
  }
}
await call('/v1/internal/cluster/host-credentials/confirm', { host_id: m.host_id, store_password: decodeURIComponent(newUrl.password), generation: issued.generation });
console.log(`${m.host_id}: older credentials revoked; rotation took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
