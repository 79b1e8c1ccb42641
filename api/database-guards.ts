// The checks every database route makes before it acts, with the reference's answers: a database that does not
// exist is 404 not_found, one in a state that cannot change now is 409 database_not_modifiable.
import { getDatabase, modifiableStates, type DatabaseRecord } from '../store/databases.js';
import type { Store } from '../store/db.js';
import { ApiError } from './errors.js';

export const databaseNotFound = () => new ApiError('not_found', 'database not found');
export const notModifiable = () => new ApiError('database_not_modifiable', 'the target database is not modifiable in its current state');

export async function requireDatabase(store: Store, id: string): Promise<DatabaseRecord> {
  const db = await getDatabase(store, id);
  if (!db) throw databaseNotFound();
  return db;
}

export function requireModifiable(db: DatabaseRecord): void {
  if (!modifiableStates.includes(db.state)) throw notModifiable();
}
