// A fresh, migrated store database per test file, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createStore, migrate, type Store } from '../../store/db.js';
import { testSecretBox } from './secret-key.js';

export interface TestStore { store: Store; url: string; drop: () => Promise<void> }

export async function createTestStore(baseUrl: string): Promise<TestStore> {
  const name = `pgcp_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = baseUrl.replace(/\/[^/]+$/, `/${name}`);
  const store = createStore(url, testSecretBox());
  await migrate(store);
  return {
    store,
    url,
    drop: async () => {
      await store.end();
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
