-- A partition per run of each table a run writes its rows into: ccf.result_row, ccf.excluded and
-- ccf.unmatched (issue #20, docs/performance.md "Eighth pass"). A run inserted its rows into
-- logged tables that existed before it, each row writing its WAL and its index entries. Now the
-- run creates its own three tables in its own transaction (ccf.open_result_partition), fills them,
-- and attaches them just before it commits (ccf.attach_result_partition): a table created in the
-- transaction that fills it writes no WAL under wal_level = minimal (the embedded server's; its
-- file is synced at commit instead), and under replica it is an ordinary logged insert. A
-- partition has no index: its rows are one run's, which is what every reader selects (a run's
-- rows were found by a BRIN index on run_id, 0019, and the (run_id, methodology_id) indexes of
-- 0001; now by partition pruning), and it carries the CHECK its bound states, so that ATTACH need
-- not scan it to prove it. Deleting a run drops its partitions (the trigger below), instead of
-- deleting its rows one by one.
--
-- Every reader still names the parents (and the views ccf.result and ccf.result_provenance),
-- which alone carry the row-level security of 0015 and 0022; the partitions live in schema
-- ccf_run, which ccf_runner may use (a run writes into its own partitions by name) and ccf_api may
-- not. ccf_runner may no longer insert through the parents: only into the partitions of its run
-- in progress, between the two functions below, which grant and revoke that.
CREATE SCHEMA IF NOT EXISTS ccf_run;
REVOKE ALL ON SCHEMA ccf_run FROM PUBLIC;

DROP VIEW ccf.result_provenance;
DROP VIEW ccf.result;

-- The three tables as they were, converted in place: the same names and columns, each run's rows
-- moved into its partition (named as engine/run_partition.py names it), with the CHECK of its bound.
DO $$
DECLARE
  t TEXT;
  r RECORD;
  part TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    EXECUTE pg_catalog.format('ALTER TABLE ccf.%I RENAME TO %I', t, t || '_before_0027');
    EXECUTE pg_catalog.format('CREATE TABLE ccf.%I (LIKE ccf.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (run_id)',
                              t, t || '_before_0027');
    FOR r IN EXECUTE pg_catalog.format('SELECT DISTINCT o.run_id FROM ccf.%I AS o ORDER BY o.run_id', t || '_before_0027') LOOP
      part := t || '_' || r.run_id;
      EXECUTE pg_catalog.format('CREATE TABLE ccf_run.%I (LIKE ccf.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, t);
      EXECUTE pg_catalog.format('ALTER TABLE ccf_run.%I ADD CONSTRAINT %I CHECK (run_id = %s)', part, t || '_of_the_run', r.run_id);
      EXECUTE pg_catalog.format('INSERT INTO ccf_run.%I SELECT * FROM ccf.%I WHERE run_id = %s', part, t || '_before_0027', r.run_id);
      EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ATTACH PARTITION ccf_run.%I FOR VALUES IN (%s)', t, part, r.run_id);
    END LOOP;
    EXECUTE pg_catalog.format('DROP TABLE ccf.%I', t || '_before_0027');
  END LOOP;
END
$$;

-- As in 0019, over the partitioned table.
CREATE VIEW ccf.result AS
SELECT r.run_id, r.methodology_id, r.activity_id, r.entity, r.period_start, r.rule_id, g.gas, g.gas_kg, g.gwp,
       g.co2e_kg, g.factor_ids, g.match_level, r.unit_conversion, r.instrument_id, g.factor_set, r.data_quality
FROM ccf.result_row AS r
CROSS JOIN LATERAL (
  VALUES
    ('CO2e', r.co2e_kg, r.co2e_gwp, r.co2e_co2e_kg, r.co2e_factor_ids, r.co2e_match_level, r.co2e_factor_set),
    ('CO2', r.co2_kg, r.co2_gwp, r.co2_co2e_kg, r.co2_factor_ids, r.co2_match_level, r.co2_factor_set),
    ('CH4', r.ch4_kg, r.ch4_gwp, r.ch4_co2e_kg, r.ch4_factor_ids, r.ch4_match_level, r.ch4_factor_set),
    ('N2O', r.n2o_kg, r.n2o_gwp, r.n2o_co2e_kg, r.n2o_factor_ids, r.n2o_match_level, r.n2o_factor_set),
    ('total_minus_gases', r.total_minus_gases_kg, r.total_minus_gases_gwp, r.total_minus_gases_co2e_kg, r.total_minus_gases_factor_ids, r.total_minus_gases_match_level, r.total_minus_gases_factor_set),
    ('CO2_biogenic', r.co2_biogenic_kg, r.co2_biogenic_gwp, r.co2_biogenic_co2e_kg, r.co2_biogenic_factor_ids, r.co2_biogenic_match_level, r.co2_biogenic_factor_set)
) AS g (gas, gas_kg, gwp, co2e_kg, factor_ids, match_level, factor_set)
WHERE g.co2e_kg IS NOT NULL;

CREATE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp AS gwp_set, r.gwp, r.co2e_kg, r.factor_ids, COALESCE(r.factor_set, m.factor_set) AS factor_set,
       CASE WHEN r.factor_set IS NULL THEN m.factor_set_sha256 ELSE x.sha256 END AS factor_set_sha256,
       r.match_level, r.unit_conversion, r.instrument_id,
       CASE WHEN r.factor_set IS NULL THEN m.edition_fallback ELSE x.edition_fallback END AS edition_fallback,
       r.data_quality
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id
LEFT JOIN ccf.run_factor_set AS x
  ON x.run_id = r.run_id AND x.methodology_id = r.methodology_id AND x.set_id = r.factor_set;

-- The policies of 0015 and 0019 (a policy of the parent applies to the rows of its partitions read
-- or written through it); ccf_api's come back by ccf.protect_org_data after the migrations.
DO $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE pg_catalog.format('CREATE POLICY read_every_run ON ccf.%I FOR SELECT USING (true)', t);
    EXECUTE pg_catalog.format('CREATE POLICY append_to_the_run_in_progress ON ccf.%I FOR INSERT '
                              'WITH CHECK (run_id IN (SELECT r.run_id FROM ccf.run AS r WHERE r.finished_at IS NULL))', t);
  END LOOP;
END
$$;

-- The run in progress of the caller's transaction: a run row with no finished_at is visible to
-- the transaction that inserted it only (no run is committed unfinished, 0015).
CREATE OR REPLACE FUNCTION ccf.refuse_all_but_the_run_in_progress(run BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ccf.run AS r WHERE r.run_id = run AND r.finished_at IS NULL) THEN
    RAISE EXCEPTION 'run % is not the run in progress of this transaction', run USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;
ALTER FUNCTION ccf.refuse_all_but_the_run_in_progress(BIGINT) SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.refuse_all_but_the_run_in_progress(BIGINT) FROM PUBLIC;

-- The run's partitions, created empty in the caller's transaction and not attached: each with its
-- parent's columns and constraints, and the CHECK of its bound. ccf_runner may insert into them
-- and read them until they are attached.
CREATE OR REPLACE FUNCTION ccf.open_result_partition(run BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  t TEXT;
BEGIN
  PERFORM ccf.refuse_all_but_the_run_in_progress(run);
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    EXECUTE pg_catalog.format('CREATE TABLE ccf_run.%I (LIKE ccf.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', t || '_' || run, t);
    EXECUTE pg_catalog.format('ALTER TABLE ccf_run.%I ADD CONSTRAINT %I CHECK (run_id = %s)', t || '_' || run, t || '_of_the_run', run);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ccf_runner') THEN
      EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON ccf_run.%I TO ccf_runner', t || '_' || run);
    END IF;
  END LOOP;
END
$$;
ALTER FUNCTION ccf.open_result_partition(BIGINT) SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.open_result_partition(BIGINT) FROM PUBLIC;

-- The run's partitions attached, their rows from then on read through the parents only. ATTACH
-- takes a SHARE UPDATE EXCLUSIVE lock of the parent, which its readers do not wait for, held to
-- the run's commit: the run's last statements before it.
CREATE OR REPLACE FUNCTION ccf.attach_result_partition(run BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
  t TEXT;
BEGIN
  PERFORM ccf.refuse_all_but_the_run_in_progress(run);
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ccf_runner') THEN
      EXECUTE pg_catalog.format('REVOKE ALL ON ccf_run.%I FROM ccf_runner', t || '_' || run);
    END IF;
    EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ATTACH PARTITION ccf_run.%I FOR VALUES IN (%s)', t, t || '_' || run, run);
  END LOOP;
END
$$;
ALTER FUNCTION ccf.attach_result_partition(BIGINT) SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.attach_result_partition(BIGINT) FROM PUBLIC;

-- A deleted run's partitions go with it, whoever deleted the run (the command line, or the
-- service's ccf_api for a run of its organisation), as the owner of the partitions.
CREATE OR REPLACE FUNCTION ccf.drop_result_partition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['result_row', 'excluded', 'unmatched'] LOOP
    IF pg_catalog.to_regclass(pg_catalog.format('ccf_run.%I', t || '_' || OLD.run_id)) IS NOT NULL THEN
      EXECUTE pg_catalog.format('DROP TABLE ccf_run.%I', t || '_' || OLD.run_id);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
ALTER FUNCTION ccf.drop_result_partition() SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.drop_result_partition() FROM PUBLIC;
DROP TRIGGER IF EXISTS run_drops_its_result_partition ON ccf.run;
CREATE TRIGGER run_drops_its_result_partition AFTER DELETE ON ccf.run
  FOR EACH ROW EXECUTE FUNCTION ccf.drop_result_partition();

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    GRANT USAGE ON SCHEMA ccf_run TO ccf_runner;
    REVOKE INSERT ON ccf.result_row, ccf.excluded, ccf.unmatched FROM ccf_runner;
    GRANT SELECT ON ccf.result_row, ccf.excluded, ccf.unmatched, ccf.result, ccf.result_provenance TO ccf_runner;
    GRANT EXECUTE ON FUNCTION ccf.open_result_partition(BIGINT), ccf.attach_result_partition(BIGINT) TO ccf_runner;
  END IF;
END
$$;
