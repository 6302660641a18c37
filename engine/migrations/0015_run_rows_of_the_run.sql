-- A run appends rows to itself only (docs/reliability.md, "Least privilege that holds").
-- ccf_runner may INSERT into the run tables; these policies restrict the rows it may add to
-- runs whose finished_at is unset. Such a run is visible only to the transaction running it
-- (its row is committed with the run, finished), so a run cannot add rows to a finished run or
-- to another run in progress. The owner (ccf) is not subject to row-level security; every role
-- may read every row, as before.
--
-- The check is one uncorrelated subquery per statement (a hashed set of unfinished run ids),
-- not a lookup per row.
DO $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['run_methodology', 'result', 'excluded', 'unmatched', 'instrument_allocation', 'run_factor_set'] LOOP
    EXECUTE format('ALTER TABLE ccf.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS read_every_run ON ccf.%I', t);
    EXECUTE format('CREATE POLICY read_every_run ON ccf.%I FOR SELECT USING (true)', t);
    EXECUTE format('DROP POLICY IF EXISTS append_to_the_run_in_progress ON ccf.%I', t);
    EXECUTE format('CREATE POLICY append_to_the_run_in_progress ON ccf.%I FOR INSERT '
                   'WITH CHECK (run_id IN (SELECT r.run_id FROM ccf.run AS r WHERE r.finished_at IS NULL))', t);
  END LOOP;
END
$$;

-- ... and so no committed run is unfinished: a run row must have its finished_at by the end of
-- its transaction (a run is one transaction; one left unfinished would stay open to appends).
CREATE OR REPLACE FUNCTION ccf.refuse_unfinished_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ccf.run WHERE run_id = NEW.run_id AND finished_at IS NULL) THEN
    RAISE EXCEPTION 'run % would be committed unfinished', NEW.run_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS run_commits_finished ON ccf.run;
CREATE CONSTRAINT TRIGGER run_commits_finished AFTER INSERT ON ccf.run
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ccf.refuse_unfinished_run();
