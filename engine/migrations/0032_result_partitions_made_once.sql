-- A run's partitions made by one function, which the schema owner may also call for a run that
-- is not in progress (issue #20). `ccf compile ID --bind run_id=N,…` prints a psql script that
-- recomputes run N's rows in a transaction it rolls back (engine/psql_script.py); it inserts into
-- the run's partitions by name, as a run does, and so needs them even where the run has none:
-- a run id no run has yet, a run computed on ClickHouse, or a run that migration 0027 converted,
-- which has a partition only of each table that held rows of it (a run with no unmatched row has
-- no ccf_run.unmatched_<run>). The script calls this function, which makes the missing ones; its
-- ROLLBACK drops them again. The owner could make such tables anyway: the function only keeps
-- their definition in one place, with ccf.open_result_partition's.
CREATE OR REPLACE FUNCTION ccf.make_result_partitions(run BIGINT, missing_only BOOLEAN) RETURNS INT LANGUAGE plpgsql AS $$
DECLARE
  t TEXT;
  made INT := 0;
BEGIN
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    IF missing_only AND pg_catalog.to_regclass(pg_catalog.format('ccf_run.%I', t || '_' || run)) IS NOT NULL THEN
      CONTINUE;
    END IF;
    EXECUTE pg_catalog.format('CREATE TABLE ccf_run.%I (LIKE ccf.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', t || '_' || run, t);
    EXECUTE pg_catalog.format('ALTER TABLE ccf_run.%I ADD CONSTRAINT %I CHECK (run_id = %s)', t || '_' || run, t || '_of_the_run', run);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ccf_runner') THEN
      EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON ccf_run.%I TO ccf_runner', t || '_' || run);
    END IF;
    made := made + 1;
  END LOOP;
  RETURN made;
END
$$;
ALTER FUNCTION ccf.make_result_partitions(BIGINT, BOOLEAN) SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.make_result_partitions(BIGINT, BOOLEAN) FROM PUBLIC;

-- 0027's function, its tables now made by the one above: all three, for the run in progress,
-- which has none yet (an existing one is an error, as before). CREATE OR REPLACE keeps its
-- grants and resets its attributes, which the ALTER sets again.
CREATE OR REPLACE FUNCTION ccf.open_result_partition(run BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ccf.refuse_all_but_the_run_in_progress(run);
  PERFORM ccf.make_result_partitions(run, false);
END
$$;
ALTER FUNCTION ccf.open_result_partition(BIGINT) SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.open_result_partition(BIGINT) FROM PUBLIC;
