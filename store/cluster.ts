// The cluster's identity and its join token. The token is not kept in clear: its SHA-256 (what a join is checked
// against, in constant time) and the token sealed with the control plane's key (what GET /v1/cluster/join-token shows).
import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { SecretBox } from '../platform/secret-box.js';
import type { Store } from './db.js';

export interface ClusterRecord { id: string; tokenHash: string; createdAt: Date; /** Opens the sealed token. */ token: () => string }

const tokenContext = (id: string) => `cluster.token_sealed:${id}`;
export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Whether `given` is the cluster's token: compared by hash, in constant time (equal lengths by construction). */
export function tokenMatches(given: string, hash: string): boolean {
  const a = Buffer.from(tokenHash(given), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

interface Row { id: string; token_hash: string; token_sealed: unknown; created_at: Date }
const toRecord = (box: SecretBox, r: Row): ClusterRecord => ({
  id: r.id, tokenHash: r.token_hash, createdAt: r.created_at, token: () => box.open<string>(r.token_sealed as string, tokenContext(r.id)),
});

export async function getCluster(store: Store): Promise<ClusterRecord | null> {
  const { rows } = await store.query<Row>('SELECT id, token_hash, token_sealed, created_at FROM cluster');
  return rows[0] ? toRecord(store.box, rows[0]) : null;
}

/** Creates the cluster once; returns null when one already exists (the caller answers 409). */
export async function createCluster(store: Store, id: string, token: string): Promise<ClusterRecord | null> {
  const { rows } = await store.query<Row>(
    'INSERT INTO cluster (id, token_hash, token_sealed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id, token_hash, token_sealed, created_at',
    [id, tokenHash(token), store.box.seal(token, tokenContext(id))],
  );
  return rows[0] ? toRecord(store.box, rows[0]) : null;
}

/** A token an earlier version kept in clear: hashed and sealed, the clear column emptied (run under the migration lock). */
export async function sealClusterToken(client: pg.PoolClient, box: SecretBox): Promise<number> {
  const { rows } = await client.query<{ id: string; token: string }>('SELECT id, token FROM cluster WHERE token IS NOT NULL');
  for (const r of rows) {
    await client.query('UPDATE cluster SET token = NULL, token_hash = $2, token_sealed = $3 WHERE id = $1', [r.id, tokenHash(r.token), box.seal(r.token, tokenContext(r.id))]);
  }
  return rows.length;
}
