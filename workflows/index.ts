// Every workflow the worker registers: the operations. This is the only file that imports workflows/operations/;
// the layers below import only downward (eslint.config.mjs): operations → runner → procedures → task → proxies → model.
export { createDatabase } from './operations/create-database.js';
export { deleteDatabase } from './operations/delete-database.js';
export { updateDatabase } from './operations/update-database.js';
export { verifyImages } from './operations/verify-images.js';
export { failover, switchover } from './operations/switchover.js';
export { restartInstance, startInstance, stopInstance } from './operations/instance-operations.js';
export { nodeBackup, scheduledBackup } from './operations/node-backup.js';
export { nodeRestore, restoreDatabase } from './operations/restore-database.js';
export { removeHost } from './operations/remove-host.js';
