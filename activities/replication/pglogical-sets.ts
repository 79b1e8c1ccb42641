/** The replication sets every subscription reads: tables with a primary key, tables without one, queued DDL. */
export const replicationSets = ['default', 'default_insert_only', 'ddl_sql'];

/** User tables, for putting them back in replication sets (by the same rule as AutoDDL). */
export const userTablesQuery = `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pglogical', 'spock', 'pgcp')
    AND n.nspname NOT LIKE 'pg\\_%'`;
