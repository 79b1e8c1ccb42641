// pgcp's SDK (REST side): `import { createPgcpClient } from 'pgcp'`. The Temporal trigger is a separate entry point
// (`pgcp/temporal`), since it brings the control plane's own modules (store, admission) along.
export { createPgcpClient, type ClientOptions, type ClientTls, type CreateDatabaseRequest, type Database, type DatabaseSpec, type DatabaseStatus, type PgcpClient, type Schemas, type Task, type TaskLog, type TaskLogEntry, type UpdateDatabaseRequest } from './client.js';
export { isPgcpError, PgcpApiError, PgcpTaskError, type PgcpErrorName } from './errors.js';
export type { FollowedEntry, FollowEnd, FollowOptions, WaitOptions } from './task-follow.js';
export type { components, operations, paths } from './schema.js';
