-- Result tables are appended run by run, so run_id grows with the physical order: a BRIN index
-- finds a run's rows at a fraction of a B-tree's cost to maintain on millions of inserts.
DROP INDEX IF EXISTS ccf.result_run;
CREATE INDEX IF NOT EXISTS result_run_brin ON ccf.result USING BRIN (run_id);
