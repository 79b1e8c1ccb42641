// Automatic DDL replication for pglogical, standing in for Spock's AutoDDL. One event trigger, ENABLE ALWAYS:
// - on the node where a user runs DDL (not inside the apply worker) it queues the statement for every peer through
//   pglogical's queue (message type 'Q' = SQL, replication set ddl_sql), prefixed by the session's search_path;
// - everywhere, also when the apply worker replays that DDL, a new table joins the local replication set
//   (default with a primary key, default_insert_only without) so rows written on any node flow to every other.
// A statement string holding several statements is refused: replaying it on peers would replay its DML too.
export const autoDdlSql = `
CREATE SCHEMA IF NOT EXISTS pgcp;

CREATE OR REPLACE FUNCTION pgcp.statement_count(q text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  s text := q;
BEGIN
  s := regexp_replace(s, '\\$([A-Za-z_][A-Za-z_0-9]*)?\\$.*?\\$\\1\\$', '', 'g');
  s := regexp_replace(s, '''([^'']|'''')*''', '', 'g');
  s := regexp_replace(s, '--[^\\n]*', '', 'g');
  s := regexp_replace(s, '/\\*.*?\\*/', '', 'g');
  RETURN (SELECT count(*) FROM regexp_split_to_table(s, ';') AS part WHERE btrim(part, E' \\t\\r\\n') <> '');
END
$fn$;

-- Privileged halves, pinned to pg_catalog: queue a statement, add a table to the local replication set. Every
-- role may call them (the trigger runs as whoever runs the DDL); each checks the caller acts for itself.
GRANT USAGE ON SCHEMA pgcp TO PUBLIC;
DROP FUNCTION IF EXISTS pgcp.queue_ddl(text, text);

CREATE OR REPLACE FUNCTION pgcp.queue_ddl(q text, schemas text[], caller name) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  path text := coalesce((SELECT string_agg(quote_ident(x), ', ') FROM unnest(schemas) AS x), '');
BEGIN
  IF NOT pg_has_role(session_user, caller, 'MEMBER') THEN
    RAISE EXCEPTION 'role % cannot queue DDL as %', session_user, caller;
  END IF;
  -- Peers replay the statement as the same role, with the same schemas first.
  INSERT INTO pglogical.queue (queued_at, role, replication_sets, message_type, message)
  VALUES (now(), caller, ARRAY['ddl_sql'], 'Q',
          to_json(format('SET search_path TO %s; %s', CASE WHEN path = '' THEN '''''' ELSE path END, q)));
END
$fn$;

CREATE OR REPLACE FUNCTION pgcp.add_to_set(rel oid) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $fn$
BEGIN
  IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = rel), 'MEMBER') THEN
    RAISE EXCEPTION 'role % does not own %', session_user, rel::regclass;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pglogical.replication_set_table t WHERE t.set_reloid = rel) THEN
    PERFORM pglogical.replication_set_add_table(
      CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = rel AND i.indisprimary) THEN 'default' ELSE 'default_insert_only' END,
      rel::regclass, false);
  END IF;
END
$fn$;

-- The trigger itself runs with the caller's search_path, which the queued statement must carry.
CREATE OR REPLACE FUNCTION pgcp.autoddl() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
  q text := pg_catalog.current_query();
BEGIN
  IF coalesce(pg_catalog.current_setting('pgcp.internal', true), '') OPERATOR(pg_catalog.=) 'on' THEN
    RETURN;
  END IF;
  IF pg_catalog.current_setting('session_replication_role') OPERATOR(pg_catalog.<>) 'replica'
     AND tg_tag NOT IN ('CREATE EXTENSION', 'ALTER EXTENSION', 'DROP EXTENSION')
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_ddl_commands() c
                 WHERE c.schema_name IS DISTINCT FROM 'pg_temp' AND NOT c.in_extension) THEN
    IF pgcp.statement_count(q) OPERATOR(pg_catalog.>) 1 THEN
      RAISE EXCEPTION 'DDL is replicated to every node statement by statement: send this % as a statement of its own', tg_tag
        USING HINT = 'a query string with several statements would replay all of them on the other nodes';
    END IF;
    PERFORM pgcp.queue_ddl(q, pg_catalog.current_schemas(false)::text[], current_user);
  END IF;
  FOR cmd IN
    SELECT c.objid FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.object_type OPERATOR(pg_catalog.=) 'table' AND c.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
      AND c.schema_name IS DISTINCT FROM 'pg_temp'
  LOOP
    PERFORM pgcp.add_to_set(cmd.objid);
  END LOOP;
END
$fn$;

-- DROP reports nothing to ddl_command_end's pg_event_trigger_ddl_commands(): its statement is queued from sql_drop,
-- when it dropped something that is not temporary (a temporary object exists on this node only).
CREATE OR REPLACE FUNCTION pgcp.autoddl_drop() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  q text := pg_catalog.current_query();
BEGIN
  IF coalesce(pg_catalog.current_setting('pgcp.internal', true), '') OPERATOR(pg_catalog.=) 'on'
     OR pg_catalog.current_setting('session_replication_role') OPERATOR(pg_catalog.=) 'replica'
     OR tg_tag IN ('DROP EXTENSION', 'ALTER EXTENSION')
     OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() d WHERE d.original AND NOT d.is_temporary
                    AND d.schema_name IS DISTINCT FROM 'pglogical') THEN
    RETURN;
  END IF;
  IF pgcp.statement_count(q) OPERATOR(pg_catalog.>) 1 THEN
    RAISE EXCEPTION 'DDL is replicated to every node statement by statement: send this % as a statement of its own', tg_tag;
  END IF;
  PERFORM pgcp.queue_ddl(q, pg_catalog.current_schemas(false)::text[], current_user);
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgcp_autoddl') THEN
    CREATE EVENT TRIGGER pgcp_autoddl ON ddl_command_end EXECUTE FUNCTION pgcp.autoddl();
  END IF;
  ALTER EVENT TRIGGER pgcp_autoddl ENABLE ALWAYS;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgcp_autoddl_drop') THEN
    CREATE EVENT TRIGGER pgcp_autoddl_drop ON sql_drop EXECUTE FUNCTION pgcp.autoddl_drop();
  END IF;
  ALTER EVENT TRIGGER pgcp_autoddl_drop ENABLE ALWAYS;
END
$do$;
`;
