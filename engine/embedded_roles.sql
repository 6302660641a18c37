-- The embedded server's roles (docs/reliability.md, "Least privilege that holds"), made by the
-- superuser that initialised the cluster, at every start (engine/database.py); idempotent, and
-- serialised by a transaction-level advisory lock when two commands start the server at once.
--
--   ccf         LOGIN, no other attribute: owns the database and the ccf schema; every command
--               connects as it, and it runs the migrations.
--   ccf_runner  LOGIN NOINHERIT, member of no role: a run's connection logs in as it, so no
--               SET ROLE exists that its statements could undo. Its grants are migration 0002's.
--   ccf_api     LOGIN NOINHERIT NOBYPASSRLS, member of no role, owns nothing: the HTTP service's
--               requests log in as it (engine/service/scoped.py); row-level security keeps each
--               organisation's rows apart for it. Its grants and policies are migration 0022's.
--
-- A data directory made by an older ccf has the schema and its objects owned by the superuser
-- and ccf_runner NOLOGIN: both are handed over here, and the grants the superuser gave by default
-- privileges are given by default for the tables ccf creates from now on.
DO $$
DECLARE
  obj record;
BEGIN
  PERFORM pg_advisory_xact_lock(3279);  -- engine/locks.py SETUP (0x0CCF): one role-maker at a time
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf') THEN
    CREATE ROLE ccf LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    CREATE ROLE ccf_runner LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  ELSIF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner' AND (NOT rolcanlogin OR rolinherit)) THEN
    ALTER ROLE ccf_runner LOGIN NOINHERIT;  -- an older ccf made it NOLOGIN, for SET ROLE
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_api') THEN
    CREATE ROLE ccf_api LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  IF (SELECT datdba FROM pg_database WHERE datname = current_database()) <> 'ccf'::regrole THEN
    EXECUTE format('ALTER DATABASE %I OWNER TO ccf', current_database());
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ccf') THEN
    CREATE SCHEMA ccf AUTHORIZATION ccf;
    RETURN;
  END IF;
  IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'ccf') = 'ccf'::regrole THEN
    RETURN;  -- set up already
  END IF;
  -- an older ccf's schema: everything in it goes to ccf (indexes, identity sequences and
  -- triggers follow their tables)
  -- and so do ccf_activity and ccf_run, the schemas of the activity tables' partitions
  -- (migration 0025) and of the result rows' (0027): a partition's owner does not follow its parent's
  ALTER SCHEMA ccf OWNER TO ccf;
  IF to_regnamespace('ccf_activity') IS NOT NULL THEN
    ALTER SCHEMA ccf_activity OWNER TO ccf;
  END IF;
  IF to_regnamespace('ccf_run') IS NOT NULL THEN
    ALTER SCHEMA ccf_run OWNER TO ccf;
  END IF;
  FOR obj IN
    SELECT c.oid::regclass AS name, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
    FROM pg_class c
    WHERE c.relnamespace IN ('ccf'::regnamespace, to_regnamespace('ccf_activity'), to_regnamespace('ccf_run'))
      AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relowner <> 'ccf'::regrole
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO ccf', obj.kind, obj.name);
  END LOOP;
  FOR obj IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
    WHERE p.pronamespace = 'ccf'::regnamespace AND p.proowner <> 'ccf'::regrole
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO ccf', obj.name);
  END LOOP;
  ALTER DEFAULT PRIVILEGES FOR ROLE ccf IN SCHEMA ccf GRANT SELECT ON TABLES TO ccf_runner;
END
$$;
