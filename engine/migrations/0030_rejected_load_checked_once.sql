-- A rejected row's load is checked once per load, by the statement that writes the load's
-- rejected rows (engine/load/slow.py ``insert_rejected`` joins ccf.activity_load by the load's
-- id: a load id no load has writes no row, and the load refuses to commit when its rejected rows
-- do not reconcile), instead of by a foreign key's trigger once per row (40% of that insert for
-- electricity's 19,268 rejected rows of the 1M-row bench: docs/performance.md, "Ingest, eighth
-- pass"). What the key also did, refuse to delete a load whose rejected rows remain, every delete
-- does in its own order: a dataset's rejected rows, then its loads (engine/lifecycle/datasets.py).
-- docs/data.md, "Rejected rows and their load", says why no rejected row can lose its load.
ALTER TABLE ccf.rejected DROP CONSTRAINT IF EXISTS rejected_load_id_fkey;
