-- The engine that computed a run and holds its result, excluded and unmatched rows
-- (docs/scale-out.md): 'postgresql' (the tables of ccf) or 'clickhouse' (ClickHouse's ccf
-- database, a partition per run). PostgreSQL stays the catalogue: the run row, its methodologies
-- and reconciliation are here whatever the engine, so reports, explain, verify and delete read
-- this column to know where the rows are. The runs made before it were PostgreSQL's.
ALTER TABLE ccf.run ADD COLUMN IF NOT EXISTS engine TEXT NOT NULL DEFAULT 'postgresql'
  CHECK (engine IN ('postgresql', 'clickhouse'));
