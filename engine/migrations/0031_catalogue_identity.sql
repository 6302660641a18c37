-- The identity of this PostgreSQL database as a catalogue of runs, which names the ClickHouse
-- database holding its ClickHouse runs' rows (docs/scale-out.md, "Which ClickHouse database").
-- A run id is unique in one PostgreSQL database only: two databases using one ClickHouse (one
-- chdb folder, one server) would otherwise write two runs under one id.
--
-- The identity is a uuid kept in this one-row table, so it travels with a dump and its restore
-- (the restored database still finds its runs' rows), where the server's system identifier and
-- the database's name or oid would not. ``instance`` records where the identity was taken: the
-- server's system identifier and the database's oid. A database whose instance is not the one
-- recorded is a copy (restored from a dump, or made with this one as its TEMPLATE): with no
-- ClickHouse run it takes an identity of its own at its first ClickHouse run; with one, it is
-- refused until the user says which it is (ccf.clickhouse_catalogue's ``adopt``), rather than
-- share the original's rows.
CREATE TABLE IF NOT EXISTS ccf.catalogue_identity (
  one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  identity UUID NOT NULL,
  instance TEXT NOT NULL
);

-- Where this database is now: the server's system identifier and the database's oid (which a
-- rename keeps and a copy does not).
CREATE OR REPLACE FUNCTION ccf.catalogue_instance() RETURNS TEXT
LANGUAGE sql STABLE AS $$
  SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text || '/' ||
         (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())::text
$$;

INSERT INTO ccf.catalogue_identity (identity, instance) VALUES (gen_random_uuid(), ccf.catalogue_instance())
ON CONFLICT (one) DO NOTHING;

-- The identity, checked against where the database is: the recorded instance; or ``adopt``
-- (this database takes the identity where it is: the original is gone); or a copy without
-- ClickHouse runs, which has nothing to read there (NULL) and, asked for by a ClickHouse run
-- (``running``, its id, the run in progress not counted), takes a new identity in that run's
-- transaction. A copy with ClickHouse runs raises 'CCF01', which engine/clickhouse/catalogue.py
-- words. Owned by the schema owner (SECURITY DEFINER): the run role and the service's role may
-- call it, not write the table.
CREATE OR REPLACE FUNCTION ccf.clickhouse_catalogue(running BIGINT DEFAULT NULL, adopt BOOLEAN DEFAULT FALSE) RETURNS UUID
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  recorded ccf.catalogue_identity;
  here TEXT := ccf.catalogue_instance();
  fresh UUID;
BEGIN
  SELECT * INTO recorded FROM ccf.catalogue_identity;
  IF recorded.instance = here THEN
    RETURN recorded.identity;
  END IF;
  IF adopt THEN
    UPDATE ccf.catalogue_identity SET instance = here;
    RETURN recorded.identity;
  END IF;
  IF EXISTS (SELECT 1 FROM ccf.run WHERE engine = 'clickhouse' AND run_id IS DISTINCT FROM running) THEN
    RAISE EXCEPTION 'copy of catalogue %', recorded.identity USING ERRCODE = 'CCF01';
  END IF;
  IF running IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE ccf.catalogue_identity SET identity = gen_random_uuid(), instance = here RETURNING identity INTO fresh;
  RETURN fresh;
END
$$;
-- (its owner's rights, as a statement of its own: sqlglot renders SECURITY DEFINER in a CREATE as MySQL's)
ALTER FUNCTION ccf.clickhouse_catalogue(BIGINT, BOOLEAN) SECURITY DEFINER SET search_path = pg_catalog;
REVOKE ALL ON FUNCTION ccf.clickhouse_catalogue(BIGINT, BOOLEAN) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    GRANT EXECUTE ON FUNCTION ccf.clickhouse_catalogue(BIGINT, BOOLEAN) TO ccf_runner;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_api') THEN
    GRANT EXECUTE ON FUNCTION ccf.clickhouse_catalogue(BIGINT, BOOLEAN) TO ccf_api;
  END IF;
END
$$;
