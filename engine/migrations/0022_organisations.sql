-- Organisations kept apart (docs/service.md; docs/reliability.md, "Organisations apart").
--
-- Every dataset, load, run and result belongs to an organisation. The HTTP service's requests
-- connect as the login ccf_api (NOBYPASSRLS, owns nothing) with the request's organisation in
-- the setting ccf.org_id; row-level security policies on every table holding organisation data
-- let ccf_api see and change that organisation's rows only. Which tables, and how each row
-- reaches its organisation, is kept in one place, engine/service/policies.py, which applies
-- ccf.protect_org_data (below) to each after the migrations and to each new activity table.
--
-- The command line is unchanged: it connects as the schema owner, which row-level security does
-- not apply to, and the rows it writes belong to the organisation 'default'. ccf_runner keeps
-- the reading and appending 0002 and 0015 give it.

-- ccf_api: made if this user may make roles (the embedded server's roles script makes it a
-- login; with CCF_DATABASE_URL a DBA does: docs/service.md, "Deploying").
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_api') THEN
    BEGIN
      CREATE ROLE ccf_api LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created meanwhile by a migration of another database of the cluster
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'ccf: no CREATEROLE privilege to create role ccf_api; the HTTP service needs a DBA to create it';
    END;
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS ccf.organisation (
  org_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO ccf.organisation (name) VALUES ('default') ON CONFLICT (name) DO NOTHING;

-- An API token: its secret is never stored, only its SHA-256 (the secret has 256 random bits,
-- so a plain hash is enough: there is nothing to guess); the prefix finds it, and is not secret.
CREATE TABLE IF NOT EXISTS ccf.api_token (
  token_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id BIGINT NOT NULL REFERENCES ccf.organisation (org_id),
  prefix TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at TIMESTAMPTZ
);

-- The organisation of this session's requests (NULL: none, and ccf_api then sees no row).
CREATE OR REPLACE FUNCTION ccf.current_org() RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT NULLIF(pg_catalog.current_setting('ccf.org_id', true), '')::BIGINT
$$;

-- The organisation a new row belongs to: the session's, else 'default' (the command line's).
CREATE OR REPLACE FUNCTION ccf.owning_org() RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT COALESCE(ccf.current_org(), (SELECT o.org_id FROM ccf.organisation AS o WHERE o.name = 'default'))
$$;

-- The organisation of a token, for ccf_api, which may not read ccf.api_token: a caller that
-- knows a token's prefix and the hash of its secret learns its organisation, nothing else.
CREATE OR REPLACE FUNCTION ccf.token_organisation(token_prefix TEXT, token_sha256 TEXT)
RETURNS TABLE (org_id BIGINT, name TEXT) LANGUAGE sql STABLE AS $$
  SELECT o.org_id, o.name
  FROM ccf.api_token AS t JOIN ccf.organisation AS o ON o.org_id = t.org_id
  WHERE t.prefix = token_prefix AND t.sha256 = token_sha256 AND t.revoked_at IS NULL
$$;
-- (its owner's rights, as a statement of its own: sqlglot renders SECURITY DEFINER in a CREATE as MySQL's)
ALTER FUNCTION ccf.token_organisation(TEXT, TEXT) SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.token_organisation(TEXT, TEXT) FROM PUBLIC;

-- Datasets and entity sets belong to an organisation; existing ones to 'default'.
ALTER TABLE ccf.dataset ADD COLUMN IF NOT EXISTS org_id BIGINT NOT NULL DEFAULT ccf.owning_org() REFERENCES ccf.organisation (org_id);
CREATE INDEX IF NOT EXISTS dataset_org ON ccf.dataset (org_id);
ALTER TABLE ccf.entity_set ADD COLUMN IF NOT EXISTS org_id BIGINT NOT NULL DEFAULT ccf.owning_org() REFERENCES ccf.organisation (org_id);

-- A run belongs to its dataset's organisation, whoever inserts it (ccf_runner does).
ALTER TABLE ccf.run ADD COLUMN IF NOT EXISTS org_id BIGINT REFERENCES ccf.organisation (org_id);
ALTER TABLE ccf.run DISABLE TRIGGER run_finished_is_final;  -- a finished run gains its organisation once, here
UPDATE ccf.run AS r
SET org_id = COALESCE((SELECT d.org_id FROM ccf.dataset AS d WHERE d.dataset = r.dataset), ccf.owning_org())
WHERE r.org_id IS NULL;
ALTER TABLE ccf.run ENABLE TRIGGER run_finished_is_final;
-- in a DO block: sqlglot renders ALTER COLUMN … SET NOT NULL right but warns on stderr of every command
DO $$ BEGIN ALTER TABLE ccf.run ALTER COLUMN org_id SET NOT NULL; END $$;
CREATE INDEX IF NOT EXISTS run_org ON ccf.run (org_id);

CREATE OR REPLACE FUNCTION ccf.run_of_the_dataset_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.org_id := COALESCE((SELECT d.org_id FROM ccf.dataset AS d WHERE d.dataset = NEW.dataset), ccf.owning_org());
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS run_belongs_to_its_dataset_org ON ccf.run;
CREATE TRIGGER run_belongs_to_its_dataset_org BEFORE INSERT ON ccf.run
  FOR EACH ROW EXECUTE FUNCTION ccf.run_of_the_dataset_org();

-- What ccf_api may read besides organisation data: the shared reference data (factor sets, GWPs,
-- units, regions, rates), now and in tables made later. Organisation data gets its grants from
-- ccf.protect_org_data; views read with the caller's rights, so a view shows ccf_api only what
-- the policies of its tables do (ccf.protect_views).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_api') THEN
    GRANT USAGE ON SCHEMA ccf TO ccf_api;
    GRANT SELECT ON ALL TABLES IN SCHEMA ccf TO ccf_api;
    ALTER DEFAULT PRIVILEGES IN SCHEMA ccf GRANT SELECT ON TABLES TO ccf_api;
    REVOKE ALL ON ccf.api_token FROM ccf_api;
    GRANT EXECUTE ON FUNCTION ccf.token_organisation(TEXT, TEXT) TO ccf_api;
  END IF;
END
$$;

-- Row-level security for one table of organisation data (idempotent; nothing is done, and false
-- returned, when its policies are there already or there is no ccf_api role yet).
--   reach: how a row finds its organisation: 'org' (its own org_id), 'dataset' (its dataset's),
--          'run' (its run's), 'entity_set' (its entity set's); the subqueries read the parent
--          table under the parent's own policy, one uncorrelated (hashed) subquery per statement.
--   api_privileges: what ccf_api may do to the table's rows of its organisation (SELECT, INSERT,
--          UPDATE, DELETE); all others are revoked.
--   own_policies: the table has policies of its own for every other role (0015's): they are kept
--          and nothing is opened. Otherwise every other role keeps every row, as before.
-- ccf_api's restrictive policy is AND-ed with every permissive one, so a policy that lets every
-- role read (0015's read_every_run) shows ccf_api its organisation's rows only.
CREATE OR REPLACE FUNCTION ccf.protect_org_data(tbl TEXT, reach TEXT, api_privileges TEXT[], own_policies BOOLEAN)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
  rule TEXT := CASE reach
    WHEN 'org' THEN 'org_id = ccf.current_org()'
    WHEN 'dataset' THEN 'dataset IN (SELECT d.dataset FROM ccf.dataset AS d)'
    WHEN 'run' THEN 'run_id IN (SELECT r.run_id FROM ccf.run AS r)'
    WHEN 'entity_set' THEN 'entity_set IN (SELECT s.entity_set FROM ccf.entity_set AS s)'
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
  EXECUTE pg_catalog.format('CREATE POLICY organisation_rows ON ccf.%I FOR ALL TO ccf_api USING (%s) WITH CHECK (%s)', tbl, rule, rule);
  EXECUTE pg_catalog.format('CREATE POLICY organisation_only ON ccf.%I AS RESTRICTIVE FOR ALL TO ccf_api USING (%s) WITH CHECK (%s)', tbl, rule, rule);
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

-- Every view of the schema reads with its caller's rights (a view reads with its owner's by
-- default, and the owner is not subject to row-level security). CREATE OR REPLACE VIEW keeps the
-- option; a new view gets it from here, after the migrations. The views done are returned.
CREATE OR REPLACE FUNCTION ccf.protect_views() RETURNS INT LANGUAGE plpgsql AS $$
DECLARE
  v TEXT;
  n INT := 0;
BEGIN
  FOR v IN
    SELECT c.relname FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'ccf'::regnamespace AND c.relkind = 'v'
      AND NOT COALESCE('security_invoker=true' = ANY (c.reloptions), false)
  LOOP
    EXECUTE pg_catalog.format('ALTER VIEW ccf.%I SET (security_invoker = true)', v);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
