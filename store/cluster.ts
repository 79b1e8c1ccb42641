import type { Store } from './db.js';

export interface ClusterRecord { id: string; token: string; createdAt: Date }

export async function getCluster(store: Store): Promise<ClusterRecord | null> {
  const { rows } = await store.query<{ id: string; token: string; created_at: Date }>('SELECT id, token, created_at FROM cluster');
  const r = rows[0];
  return r ? { id: r.id, token: r.token, createdAt: r.created_at } : null;
}

/** Creates the cluster once; returns null when one already exists (the caller answers 409). */
export async function createCluster(store: Store, id: string, token: string): Promise<ClusterRecord | null> {
  const { rows } = await store.query<{ id: string; token: string; created_at: Date }>(
    'INSERT INTO cluster (id, token) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id, token, created_at',
    [id, token],
  );
  const r = rows[0];
  return r ? { id: r.id, token: r.token, createdAt: r.created_at } : null;
}
