-- Factor sets and methodology libraries per organisation (docs/service.md, "Organisations apart").
--
-- A factor set is shared (org_id NULL: the shipped sets, and those 'ccf factors add' installs
-- without --org) or an organisation's own. An organisation knows its own by their name, unique
-- in the organisation, as 0026 keeps dataset names apart; set_id stays the key of the whole
-- database ('<organisation>.<name>' for an organisation's own set), so two organisations may each
-- have a 'my-grid-2025' and neither learns, by a refusal, that the other has one. A shared set's
-- name is its key. A run reads the set of the name its methodology gives among the shared ones
-- and its organisation's (engine/factors/store.py, installed), its own first.
ALTER TABLE ccf.factor_set ADD COLUMN IF NOT EXISTS org_id BIGINT REFERENCES ccf.organisation (org_id);
ALTER TABLE ccf.factor_set ADD COLUMN IF NOT EXISTS name TEXT;
UPDATE ccf.factor_set SET name = set_id WHERE name IS NULL;
CREATE INDEX IF NOT EXISTS factor_set_org ON ccf.factor_set (org_id);

-- in a DO block: sqlglot renders ALTER COLUMN … SET NOT NULL and NULLS NOT DISTINCT with warnings
DO $$
BEGIN
  DROP TRIGGER IF EXISTS factor_set_named_by_its_key ON ccf.factor_set;
  CREATE TRIGGER factor_set_named_by_its_key BEFORE INSERT ON ccf.factor_set
    FOR EACH ROW EXECUTE FUNCTION ccf.named_by_its_key('set_id');
  ALTER TABLE ccf.factor_set ALTER COLUMN name SET NOT NULL;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'factor_set_name_per_organisation') THEN
    ALTER TABLE ccf.factor_set ADD CONSTRAINT factor_set_name_per_organisation UNIQUE NULLS NOT DISTINCT (org_id, name);
  END IF;
END
$$;

-- An organisation's own library: the files of a project's methodology folder (methodology
-- versions <id>/<version>.yaml, activity_types/<name>.yaml) and factor-set declarations
-- (factor_sets/<id>.yaml), as uploaded, content-hashed. The service and the worker read an
-- organisation's library from here beside the shipped one (engine/service/libraries.py). A
-- published methodology version is immutable, as a shipped one is: its row is never changed nor
-- deleted (the trigger below); a draft may be uploaded again.
CREATE TABLE IF NOT EXISTS ccf.library_file (
  file_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id BIGINT NOT NULL DEFAULT ccf.owning_org() REFERENCES ccf.organisation (org_id),
  path TEXT NOT NULL CHECK (path ~ '^(methodologies|factor_sets)/[A-Za-z0-9._/-]+\.yaml$' AND path !~ '(^|/)\.\.?(/|$)'),
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  published BOOLEAN NOT NULL DEFAULT false,
  uploaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (org_id, path)
);

CREATE OR REPLACE FUNCTION ccf.refuse_published_library_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.published AND (TG_OP = 'DELETE' OR NEW.sha256 <> OLD.sha256 OR NEW.path <> OLD.path OR NEW.org_id <> OLD.org_id) THEN
    RAISE EXCEPTION '% is a published methodology version and cannot be changed; publish a new version', OLD.path
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
DROP TRIGGER IF EXISTS library_published_is_final ON ccf.library_file;
CREATE TRIGGER library_published_is_final BEFORE UPDATE OR DELETE ON ccf.library_file
  FOR EACH ROW EXECUTE FUNCTION ccf.refuse_published_library_change();

-- ccf.protect_org_data (0022) learns two reaches, for what is shared or an organisation's own:
--   'shared_or_org': a row is shared (org_id NULL) or the organisation's; ccf_api reads both and
--                    writes (inserts, deletes) only its own;
--   'factor_set':    a row of a factor set (ccf.factor) is read where its set is, and written
--                    where its set is the organisation's own.
-- A reach whose write rule differs from its read rule gets restrictive policies for UPDATE and
-- DELETE with the write rule (a FOR ALL policy's USING would let ccf_api delete what it reads).
CREATE OR REPLACE FUNCTION ccf.protect_org_data(tbl TEXT, reach TEXT, api_privileges TEXT[], own_policies BOOLEAN)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
  rule TEXT := CASE reach
    WHEN 'org' THEN 'org_id = ccf.current_org()'
    WHEN 'dataset' THEN 'dataset IN (SELECT d.dataset FROM ccf.dataset AS d)'
    WHEN 'run' THEN 'run_id IN (SELECT r.run_id FROM ccf.run AS r)'
    WHEN 'entity_set' THEN 'entity_set IN (SELECT s.entity_set FROM ccf.entity_set AS s)'
    WHEN 'shared_or_org' THEN '(org_id IS NULL OR org_id = ccf.current_org())'
    WHEN 'factor_set' THEN 'factor_set_id IN (SELECT s.factor_set_id FROM ccf.factor_set AS s)'
  END;
  write_rule TEXT := CASE reach
    WHEN 'shared_or_org' THEN 'org_id = ccf.current_org()'
    WHEN 'factor_set' THEN 'factor_set_id IN (SELECT s.factor_set_id FROM ccf.factor_set AS s WHERE s.org_id = ccf.current_org())'
    ELSE rule
  END;
  p TEXT;
BEGIN
  IF rule IS NULL THEN
    RAISE EXCEPTION 'ccf.protect_org_data: unknown reach %', reach;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ccf_api')
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_policies WHERE schemaname = 'ccf' AND tablename = tbl AND policyname = 'organisation_only') THEN
    RETURN false;
  END IF;
  EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ENABLE ROW LEVEL SECURITY', tbl);
  IF NOT own_policies THEN
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS every_row ON ccf.%I', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY every_row ON ccf.%I FOR ALL USING (true) WITH CHECK (true)', tbl);
  END IF;
  EXECUTE pg_catalog.format('DROP POLICY IF EXISTS organisation_rows ON ccf.%I', tbl);
  EXECUTE pg_catalog.format('CREATE POLICY organisation_rows ON ccf.%I FOR ALL TO ccf_api USING (%s) WITH CHECK (%s)', tbl, rule, write_rule);
  IF write_rule <> rule THEN
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS organisation_updates ON ccf.%I', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY organisation_updates ON ccf.%I AS RESTRICTIVE FOR UPDATE TO ccf_api USING (%s)', tbl, write_rule);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS organisation_deletes ON ccf.%I', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY organisation_deletes ON ccf.%I AS RESTRICTIVE FOR DELETE TO ccf_api USING (%s)', tbl, write_rule);
  END IF;
  EXECUTE pg_catalog.format('CREATE POLICY organisation_only ON ccf.%I AS RESTRICTIVE FOR ALL TO ccf_api USING (%s) WITH CHECK (%s)', tbl, rule, write_rule);
  EXECUTE pg_catalog.format('REVOKE ALL ON ccf.%I FROM ccf_api', tbl);
  FOREACH p IN ARRAY api_privileges LOOP
    IF p NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE') THEN
      RAISE EXCEPTION 'ccf.protect_org_data: unknown privilege %', p;
    END IF;
    EXECUTE pg_catalog.format('GRANT %s ON ccf.%I TO ccf_api', p, tbl);
  END LOOP;
  RETURN true;
END
$$;

-- A run reads the factor sets of its organisation only: ccf_runner sees the shared sets and
-- those of the session's organisation (ccf.owning_org(): the organisation a worker's run
-- connection names, engine/service/worker.py; 'default' for the command line's runs), and their
-- factors. Every other role keeps every row (the policy every_row, as 0022's tables have it).
DO $$
BEGIN
  ALTER TABLE ccf.factor_set ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ccf.factor ENABLE ROW LEVEL SECURITY;
  DROP POLICY IF EXISTS every_row ON ccf.factor_set;
  CREATE POLICY every_row ON ccf.factor_set FOR ALL USING (true) WITH CHECK (true);
  DROP POLICY IF EXISTS every_row ON ccf.factor;
  CREATE POLICY every_row ON ccf.factor FOR ALL USING (true) WITH CHECK (true);
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ccf_runner') THEN
    DROP POLICY IF EXISTS runner_organisation_only ON ccf.factor_set;
    CREATE POLICY runner_organisation_only ON ccf.factor_set AS RESTRICTIVE FOR ALL TO ccf_runner
      USING (org_id IS NULL OR org_id = ccf.owning_org());
    DROP POLICY IF EXISTS runner_organisation_only ON ccf.factor;
    CREATE POLICY runner_organisation_only ON ccf.factor AS RESTRICTIVE FOR ALL TO ccf_runner
      USING (factor_set_id IN (SELECT s.factor_set_id FROM ccf.factor_set AS s));
  END IF;
END
$$;
