-- The role runs execute as (docs/reliability.md#the-run-role). It reads reference and activity
-- data and appends a run's rows; it cannot change the schema, update, delete or truncate
-- results, or change a finished run. engine/run.py switches to it (SET LOCAL ROLE) for a
-- methodology's compiled statements.
--
-- Roles belong to the whole PostgreSQL cluster, not to one database, so the role is created
-- only if it does not exist (and a concurrent creation elsewhere is tolerated). A migrating
-- user without the CREATEROLE privilege skips it with a notice instead of failing; runs then
-- execute as the connecting user until a DBA creates the role (CREATE ROLE ccf_runner NOLOGIN;
-- GRANT ccf_runner TO <ccf user>) and the grants below are applied (docs/reliability.md).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    BEGIN
      CREATE ROLE ccf_runner NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created meanwhile by a migration of another database of the cluster
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'ccf: no CREATEROLE privilege to create role ccf_runner; runs execute as %', current_user;
        RETURN;
    END;
  END IF;
  -- the connecting user switches to the role with SET ROLE, so it must be a member
  BEGIN
    EXECUTE format('GRANT ccf_runner TO %I', current_user);
  EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
    RAISE NOTICE 'ccf: cannot grant role ccf_runner to %; runs execute as %', current_user, current_user;
  END;
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO ccf_runner', current_database());
  GRANT USAGE ON SCHEMA ccf TO ccf_runner;
  -- read: reference data, activity data, and the run tables (reconciliation reads them);
  -- tables created later by this user (activity tables, later migrations) are readable too
  GRANT SELECT ON ALL TABLES IN SCHEMA ccf TO ccf_runner;
  ALTER DEFAULT PRIVILEGES IN SCHEMA ccf GRANT SELECT ON TABLES TO ccf_runner;
  -- write: append a run's rows; of a run, only its end time and summary may be set
  GRANT INSERT ON ccf.run, ccf.run_methodology, ccf.result, ccf.excluded, ccf.unmatched TO ccf_runner;
  GRANT UPDATE (finished_at, summary) ON ccf.run TO ccf_runner;
  GRANT EXECUTE ON FUNCTION ccf.div(NUMERIC, NUMERIC) TO ccf_runner;
END
$$;

-- A finished run is a record: its end time and summary are written once, by the run itself
-- (the column grant above would otherwise let any run rewrite another run's summary).
CREATE OR REPLACE FUNCTION ccf.refuse_finished_run_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.finished_at IS NOT NULL THEN
    RAISE EXCEPTION 'run % is finished and cannot be changed', OLD.run_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS run_finished_is_final ON ccf.run;
CREATE TRIGGER run_finished_is_final BEFORE UPDATE ON ccf.run
  FOR EACH ROW EXECUTE FUNCTION ccf.refuse_finished_run_change();
