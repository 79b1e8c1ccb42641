// Automatic DDL replication for pglogical, standing in for Spock's AutoDDL. Event triggers:
// - on the node where a user runs DDL (not inside the apply worker) the statement is queued for every peer through
//   pglogical's queue (message type 'Q' = SQL, replication set ddl_sql), prefixed by the session's search_path;
// - everywhere, also when the apply worker replays that DDL, a new table joins the local replication set
//   (default with a primary key, default_insert_only without) so rows written on any node flow to every other.
// What is queued is the whole query string, so it must be exactly the one DDL statement being run: Postgres's own
// parser decides (the string is prepared, not run, as a cursor: more than one statement, or one of another command,
// is refused), never a count of semicolons. CREATE/DROP INDEX CONCURRENTLY cannot run in the apply transaction and
// is refused before it starts.
// Privileges: the check runs as the user (it parses the user's SQL; a SECURITY DEFINER could run user functions at
// plan time as the superuser), in event trigger `pgcp_autoddl`, which fires before `pgcp_autoddl_queue` (triggers of
// one event fire in name order, and only a superuser can skip or drop them); `pgcp_autoddl_set` comes last. The
// queueing half is SECURITY DEFINER, takes nothing from the caller but the event itself, and calls pgcp.queue_ddl,
// which no one else may execute: a role that could queue SQL would make every peer run it under
// session_replication_role=replica (no foreign keys).
export const autoDdlSql = `
CREATE SCHEMA IF NOT EXISTS pgcp;
GRANT USAGE ON SCHEMA pgcp TO PUBLIC;
DROP FUNCTION IF EXISTS pgcp.queue_ddl(text, text);
DROP FUNCTION IF EXISTS pgcp.statement_count(text);

-- Whether this event's DDL goes to the peers: not the control plane's own, not a replay, not what an extension's
-- script runs (CREATE EXTENSION itself is replicated, and the peers run the script themselves), not only temporary
-- objects. Drops are queued from sql_drop (DROP commands report nothing at ddl_command_end), other
-- commands from ddl_command_end (ALTER TABLE … DROP COLUMN reaches both; queued twice, its replay would fail).
CREATE OR REPLACE FUNCTION pgcp.ddl_replicated(event text, tag text) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog AS $fn$
BEGIN
  IF coalesce(current_setting('pgcp.internal', true), '') = 'on' OR current_setting('session_replication_role') = 'replica' THEN
    RETURN false;
  END IF;
  IF event = 'sql_drop' THEN
    RETURN tag LIKE 'DROP %' AND EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d
                                         WHERE d.original AND NOT d.is_temporary AND d.schema_name IS DISTINCT FROM 'pglogical');
  END IF;
  RETURN EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c WHERE c.schema_name IS DISTINCT FROM 'pg_temp' AND NOT c.in_extension);
END
$fn$;

-- Refuses unless the top-level query string is exactly one statement, of the command being run. Postgres prepares
-- the string as a cursor: that parses and analyzes every statement without running any, then stops with "cannot
-- open multi-query plan as cursor" or "cannot open <TAG> query as cursor". Both messages are taken from the server
-- itself (so any lc_messages compares), and every name and operator is qualified: this runs with the caller's
-- search_path, which the parse needs.
CREATE OR REPLACE FUNCTION pgcp.require_sole_statement(tag pg_catalog.text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  q pg_catalog.text := pg_catalog.current_query();
  c pg_catalog.refcursor;
  sole pg_catalog.text;
  got pg_catalog.text := '';
BEGIN
  BEGIN
    OPEN c FOR EXECUTE 'CHECKPOINT';
  EXCEPTION WHEN invalid_cursor_definition THEN
    GET STACKED DIAGNOSTICS sole = MESSAGE_TEXT;
  END;
  BEGIN
    OPEN c FOR EXECUTE q;
    CLOSE c; -- one statement returning rows: the DDL ran inside it (a function, a DO block…)
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS got = MESSAGE_TEXT;
  END;
  IF got OPERATOR(pg_catalog.=) pg_catalog.replace(sole, 'CHECKPOINT', tag) THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'DDL is replicated to every node statement by statement: send this % as a query of its own', tag
    USING DETAIL = pg_catalog.format('The query is more than this %s statement (%s).', tag, got),
          HINT = 'A query string with several statements, or DDL run from a function or DO block, would replay all of it on the other nodes.';
END
$fn$;

-- The bare words a statement starts with, upper-cased, comments and parentheses skipped (REINDEX (CONCURRENTLY) …).
CREATE OR REPLACE FUNCTION pgcp.leading_words(q text, n int) RETURNS text[] LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog AS $fn$
DECLARE
  rest text := q;
  words text[] := '{}';
  w text;
  depth int;
  i int;
BEGIN
  WHILE cardinality(words) < n LOOP
    rest := ltrim(rest, E' \\t\\r\\n\\f(),');
    IF rest LIKE '--%' THEN
      i := position(E'\\n' IN rest);
      EXIT WHEN i = 0;
      rest := substr(rest, i + 1);
    ELSIF rest LIKE '/*%' THEN
      depth := 0;
      i := 1;
      LOOP
        EXIT WHEN i > length(rest);
        IF substr(rest, i, 2) = '/*' THEN depth := depth + 1; i := i + 2;
        ELSIF substr(rest, i, 2) = '*/' THEN depth := depth - 1; i := i + 2; EXIT WHEN depth = 0;
        ELSE i := i + 1;
        END IF;
      END LOOP;
      rest := substr(rest, i);
    ELSE
      w := substring(rest FROM '^[A-Za-z_][A-Za-z0-9_$]*');
      EXIT WHEN w IS NULL;
      words := words || upper(w);
      rest := substr(rest, length(w) + 1);
    END IF;
  END LOOP;
  RETURN words;
END
$fn$;

-- Only the queueing trigger (running as the superuser) calls this: it is not executable by PUBLIC.
CREATE OR REPLACE FUNCTION pgcp.queue_ddl(q text, schemas text[], caller name) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog AS $fn$
DECLARE
  path text := coalesce((SELECT string_agg(quote_ident(x), ', ') FROM unnest(schemas) AS x), '');
BEGIN
  -- Peers replay the statement as the same role, with the same schemas first.
  INSERT INTO pglogical.queue (queued_at, role, replication_sets, message_type, message)
  VALUES (now(), caller, ARRAY['ddl_sql'], 'Q',
          to_json(format('SET search_path TO %s; %s', CASE WHEN path = '' THEN '''''' ELSE path END, q)));
END
$fn$;
REVOKE ALL ON FUNCTION pgcp.queue_ddl(text, text[], name) FROM PUBLIC;

-- pglogical records a table's membership in a replication set as a normal dependency on the table, so a plain
-- DROP TABLE of a replicated table fails ("table … membership in replication set default depends on table …") and
-- only CASCADE gets through. Spock drops the membership with the table; here the membership becomes an automatic
-- dependency (pglogical.depend deptype 'a', pglogical's copy of Postgres's own rule), which a DROP removes with the
-- table under RESTRICT too, while anything else that depends on the table (a view, a foreign key) still refuses it.
-- rel NULL: every membership in this database (for nodes made before this rule).
CREATE OR REPLACE FUNCTION pgcp.auto_membership(rel oid) RETURNS void LANGUAGE sql
SET search_path = pg_catalog AS $fn$
  UPDATE pglogical.depend SET deptype = 'a'
   WHERE classid = 'pglogical.replication_set_table'::regclass AND refclassid = 'pg_class'::regclass
     AND deptype = 'n' AND (rel IS NULL OR refobjid = rel);
$fn$;
REVOKE ALL ON FUNCTION pgcp.auto_membership(oid) FROM PUBLIC;

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
  PERFORM pgcp.auto_membership(rel);
END
$fn$;

-- ddl_command_start: CONCURRENTLY commits on its own and cannot run inside the peers' apply transaction.
CREATE OR REPLACE FUNCTION pgcp.autoddl_start() RETURNS event_trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF tg_tag IN ('CREATE INDEX', 'DROP INDEX', 'REINDEX')
     AND coalesce(current_setting('pgcp.internal', true), '') <> 'on' AND current_setting('session_replication_role') <> 'replica'
     AND 'CONCURRENTLY' = ANY (pgcp.leading_words(current_query(), 8)) THEN
    RAISE EXCEPTION '% CONCURRENTLY cannot be replicated: the other nodes apply DDL inside a transaction', tg_tag
      USING HINT = pg_catalog.format('Run it without CONCURRENTLY (it then holds its lock for the whole %s on every node).', lower(tg_tag));
  END IF;
END
$fn$;

-- ddl_command_end and sql_drop, as the user: the check.
CREATE OR REPLACE FUNCTION pgcp.autoddl() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF pgcp.ddl_replicated(tg_event, tg_tag) THEN
    PERFORM pgcp.require_sole_statement(tg_tag);
  END IF;
END
$fn$;

-- ddl_command_end, last (also inside the apply worker): a new table joins the local replication set, after its
-- statement was queued, so peers create it before its rows arrive.
CREATE OR REPLACE FUNCTION pgcp.autoddl_set() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
BEGIN
  IF coalesce(pg_catalog.current_setting('pgcp.internal', true), '') OPERATOR(pg_catalog.=) 'on' THEN
    RETURN;
  END IF;
  FOR cmd IN
    SELECT c.objid FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.object_type OPERATOR(pg_catalog.=) 'table' AND c.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
      AND c.schema_name IS DISTINCT FROM 'pg_temp' AND NOT c.in_extension -- an extension's own tables: each node fills its own
  LOOP
    PERFORM pgcp.add_to_set(cmd.objid);
  END LOOP;
END
$fn$;

-- The queueing half, as the superuser, after pgcp.autoddl has checked the same event. It keeps the caller's
-- search_path (to record it for the peers), so it names everything with its schema.
CREATE OR REPLACE FUNCTION pgcp.autoddl_queue() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
BEGIN
  IF pgcp.ddl_replicated(tg_event, tg_tag) THEN
    PERFORM pgcp.queue_ddl(pg_catalog.current_query(), pg_catalog.current_schemas(false)::pg_catalog.text[],
      CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none' THEN session_user
           ELSE pg_catalog.current_setting('role')::pg_catalog.name END);
  END IF;
END
$fn$;

DO $do$
DECLARE
  t record;
BEGIN
  DROP FUNCTION IF EXISTS pgcp.autoddl_drop() CASCADE; -- the old single-function drop trigger
  PERFORM pgcp.auto_membership(NULL);
  -- The checks and the queueing act where users run DDL (ENABLE: not in the apply worker, which replays as
  -- session_replication_role=replica); a new table joins the local set everywhere, replays included (ENABLE ALWAYS).
  FOR t IN SELECT * FROM (VALUES
      ('pgcp_autoddl_start', 'ddl_command_start', 'pgcp.autoddl_start', 'ENABLE'),
      ('pgcp_autoddl', 'ddl_command_end', 'pgcp.autoddl', 'ENABLE'),
      ('pgcp_autoddl_queue', 'ddl_command_end', 'pgcp.autoddl_queue', 'ENABLE'),
      ('pgcp_autoddl_set', 'ddl_command_end', 'pgcp.autoddl_set', 'ENABLE ALWAYS'),
      ('pgcp_autoddl_drop', 'sql_drop', 'pgcp.autoddl', 'ENABLE'),
      ('pgcp_autoddl_drop_queue', 'sql_drop', 'pgcp.autoddl_queue', 'ENABLE')) AS v(name, event, fn, mode)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = t.name) THEN
      EXECUTE format('CREATE EVENT TRIGGER %I ON %s EXECUTE FUNCTION %s()', t.name, t.event, t.fn);
    END IF;
    EXECUTE format('ALTER EVENT TRIGGER %I %s', t.name, t.mode);
  END LOOP;
END
$do$;
`;
