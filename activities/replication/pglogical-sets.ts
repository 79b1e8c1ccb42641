/** The replication sets every subscription reads: tables with a primary key, tables without one, queued DDL. */
export const replicationSets = ['default', 'default_insert_only', 'ddl_sql'];
