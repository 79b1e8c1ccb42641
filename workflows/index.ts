export { createDatabase } from './create-database.js';
export { deleteDatabase } from './delete-database.js';
export { updateDatabase } from './update-database.js';
export { verifyImages } from './verify-images.js';
export { failover, switchover } from './switchover.js';
export { restartInstance, startInstance, stopInstance } from './instance-operations.js';
export { nodeBackup, scheduledBackup } from './node-backup.js';
export { nodeRestore, restoreDatabase } from './restore-database.js';
