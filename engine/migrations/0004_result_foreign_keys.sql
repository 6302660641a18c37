-- Result, exclusion and unmatched rows are written only inside the run's own transaction, after
-- its ccf.run row; a per-row foreign-key check on millions of rows cost more than the whole
-- computation (measured: docs/performance.md). The run id is still checked once per run by the
-- reconciliation, and ccf.run_methodology keeps its foreign key.
ALTER TABLE ccf.result DROP CONSTRAINT IF EXISTS result_run_id_fkey;
ALTER TABLE ccf.excluded DROP CONSTRAINT IF EXISTS excluded_run_id_fkey;
ALTER TABLE ccf.unmatched DROP CONSTRAINT IF EXISTS unmatched_run_id_fkey;
