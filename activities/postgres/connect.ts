// Admin connections to an instance, as the superuser, marked internal so that its DDL is never replicated. The
// address comes from activities/addresses.ts (container address, or another host's address and published port).
import pg from 'pg';
import { postgresEndpoint, type InstanceAddress } from '../addresses.js';
import type { DatabaseSecrets } from '../../store/databases.js';
import { internalSessionSetting } from '../replication/driver.js';
import { superUser } from '../patroni/config.js';

export async function connectInstance(address: InstanceAddress, secrets: DatabaseSecrets, database: string): Promise<pg.Client> {
  const client = new pg.Client({
    ...postgresEndpoint(address), user: superUser, password: secrets.superuserPassword, database,
    connectionTimeoutMillis: 3000, application_name: 'pgcp',
  });
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
    await client.query(internalSessionSetting);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

export async function withClient<T>(address: InstanceAddress, secrets: DatabaseSecrets, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectInstance(address, secrets, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
