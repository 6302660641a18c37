-- Dataset and entity-set names per organisation (docs/service.md, "Organisations apart"), and
-- impacts as background jobs.
--
-- A dataset's key (ccf.dataset.dataset) names it in every table of its rows (the activity
-- tables, loads, rejected rows, runs, jobs), and an entity set's key (ccf.entity_set.entity_set)
-- in its entities and its datasets: keys of the whole database. So that two organisations may
-- each have a dataset 'northwind', and neither can learn, by a refusal, that the other has one,
-- a row also has the name its organisation knows it by (``name``, unique per organisation); the
-- HTTP service maps each request's names to keys and back (engine/service/names.py), and makes
-- the key of a new row itself, one no other row has. The command line's rows keep their key as
-- their name, as the trigger below gives every row inserted without one.
ALTER TABLE ccf.dataset ADD COLUMN IF NOT EXISTS name TEXT;
ALTER TABLE ccf.entity_set ADD COLUMN IF NOT EXISTS name TEXT;
UPDATE ccf.dataset SET name = dataset WHERE name IS NULL;
UPDATE ccf.entity_set SET name = entity_set WHERE name IS NULL;

-- A row inserted without a name is known by its key (TG_ARGV[0]: the key's column).
CREATE OR REPLACE FUNCTION ccf.named_by_its_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := COALESCE(NEW.name, pg_catalog.to_jsonb(NEW) ->> TG_ARGV[0]);
  RETURN NEW;
END
$$;

-- in a DO block: sqlglot renders ALTER COLUMN … SET NOT NULL and DEFERRABLE constraints with warnings
DO $$
BEGIN
  DROP TRIGGER IF EXISTS dataset_named_by_its_key ON ccf.dataset;
  CREATE TRIGGER dataset_named_by_its_key BEFORE INSERT ON ccf.dataset
    FOR EACH ROW EXECUTE FUNCTION ccf.named_by_its_key('dataset');
  DROP TRIGGER IF EXISTS entity_set_named_by_its_key ON ccf.entity_set;
  CREATE TRIGGER entity_set_named_by_its_key BEFORE INSERT ON ccf.entity_set
    FOR EACH ROW EXECUTE FUNCTION ccf.named_by_its_key('entity_set');
  ALTER TABLE ccf.dataset ALTER COLUMN name SET NOT NULL;
  ALTER TABLE ccf.entity_set ALTER COLUMN name SET NOT NULL;
  -- deferred: the service inserts a row under its key (so named, by the trigger) and renames
  -- it in the same transaction; the name must be unique when the transaction commits
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'dataset_name_per_organisation') THEN
    ALTER TABLE ccf.dataset ADD CONSTRAINT dataset_name_per_organisation UNIQUE (org_id, name) DEFERRABLE INITIALLY DEFERRED;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'entity_set_name_per_organisation') THEN
    ALTER TABLE ccf.entity_set ADD CONSTRAINT entity_set_name_per_organisation UNIQUE (org_id, name) DEFERRABLE INITIALLY DEFERRED;
  END IF;
END
$$;

-- The impact of one methodology version against another on a dataset (engine/attribution: both
-- versions run, or earlier runs reused, and the change attributed) is a background job too, as a
-- run is: kind 'impact', its versions the pair [from, to], and its attribution, once done, in
-- result. (A run job's result is its run, run_id.)
ALTER TABLE ccf.run_job ADD COLUMN IF NOT EXISTS kind TEXT NOT NULL DEFAULT 'run';
ALTER TABLE ccf.run_job ADD COLUMN IF NOT EXISTS result JSONB;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'run_job_kind') THEN
    ALTER TABLE ccf.run_job ADD CONSTRAINT run_job_kind
      CHECK (kind = 'run' OR (kind = 'impact' AND pg_catalog.cardinality(versions) = 2));
  END IF;
END
$$;
