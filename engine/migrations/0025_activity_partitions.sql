-- Each activity table partitioned by dataset (issue #20, docs/performance.md "Ingest, seventh
-- pass"). A dataset's first load of a type creates its partition in schema ccf_activity, fills it
-- before it has an index, builds its primary key once and attaches it (engine/load/tables.py);
-- inserting into the keyed, logged table row by row was most of a load. Every reader names the
-- parent ccf."activity_<type>", which alone carries the privileges and the row-level security
-- (policies of a parent apply to the rows of its partitions read or written through it); the
-- partitions' schema is its owner's alone, so no other role can name a partition directly.
CREATE SCHEMA IF NOT EXISTS ccf_activity;
REVOKE ALL ON SCHEMA ccf_activity FROM PUBLIC;

-- The activity tables loaded before this migration, converted in place: the same name and
-- columns, each dataset's rows moved into its own keyed partition, named as
-- engine/load/tables.py partition_name names it. The old table's privileges come back by the
-- schema's default privileges (0002, 0022), its row-level security by ccf.protect_org_data after
-- the migrations (engine/service/policies.py).
DO $$
DECLARE
  t RECORD;
  d RECORD;
  activity_type TEXT;
  old_name TEXT;
  part TEXT;
BEGIN
  FOR t IN SELECT c.relname, c.oid FROM pg_catalog.pg_class AS c
           WHERE c.relnamespace = 'ccf'::regnamespace AND c.relkind = 'r'
             AND c.relname LIKE 'activity\_%' AND c.relname <> 'activity_load'
           ORDER BY c.relname LOOP
    activity_type := substr(t.relname, length('activity_') + 1);
    old_name := 'activity_before_0025_' || t.oid;
    EXECUTE pg_catalog.format('ALTER TABLE ccf.%I RENAME TO %I', t.relname, old_name);
    EXECUTE pg_catalog.format('CREATE TABLE ccf.%I (LIKE ccf.%I) PARTITION BY LIST (dataset)', t.relname, old_name);
    EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ADD PRIMARY KEY (dataset, activity_id)', t.relname);
    FOR d IN EXECUTE pg_catalog.format('SELECT DISTINCT dataset FROM ccf.%I ORDER BY dataset', old_name) LOOP
      part := left(activity_type, 30) || '_'
              || left(encode(sha256(convert_to(activity_type || '/' || d.dataset, 'UTF8')), 'hex'), 32);
      EXECUTE pg_catalog.format('CREATE TABLE ccf_activity.%I (LIKE ccf.%I)', part, t.relname);
      EXECUTE pg_catalog.format('INSERT INTO ccf_activity.%I SELECT * FROM ccf.%I WHERE dataset = %L',
                                part, old_name, d.dataset);
      EXECUTE pg_catalog.format('ALTER TABLE ccf_activity.%I ADD PRIMARY KEY (dataset, activity_id)', part);
      EXECUTE pg_catalog.format('ALTER TABLE ccf.%I ATTACH PARTITION ccf_activity.%I FOR VALUES IN (%L)',
                                t.relname, part, d.dataset);
    END LOOP;
    EXECUTE pg_catalog.format('DROP TABLE ccf.%I', old_name);
  END LOOP;
END
$$;
