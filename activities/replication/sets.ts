// What both replication layers replicate: the sets every subscription reads, and which tables belong in them.
/** The replication sets every subscription reads: tables with a primary key, tables without one, queued DDL. */
export const replicationSets = ['default', 'default_insert_only', 'ddl_sql'];

/**
 * User tables (partitioned ones, not their partitions), put in replication sets after a copy or a restore; not an
 * extension's own tables (PostGIS's spatial_ref_sys), which every node's CREATE EXTENSION fills by itself.
 */
export const userTablesQuery = `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pglogical', 'spock', 'pgcp')
    AND n.nspname NOT LIKE 'pg\\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;
