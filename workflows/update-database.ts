// update: converge the database to its stored spec. Re-running the same spec is safe: every step checks before it
// acts, so a failed or canceled create is finished by an update with the same spec.
import { convergeDatabase } from './create-database.js';
import { runDatabaseTask, type DatabaseTaskInput } from './task.js';

export async function updateDatabase({ databaseId }: DatabaseTaskInput): Promise<void> {
  await runDatabaseTask(databaseId, 'available', () => convergeDatabase(databaseId, false));
}
