-- Rate tables for spend-based methods: exchange rates and price indices, versioned and
-- immutable like factor sets (engine/factors/rates.py; docs/data.md#rate-tables).
-- An exchange-rate row: `value` units of the table's reference currency per one unit of
-- `currency`, in `year` (the table's basis, e.g. an annual average). A price-index row: the
-- index of the economy whose currency is `currency`, in `year` (the table's index base).
CREATE TABLE IF NOT EXISTS ccf.rate_table (
  rate_table_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  publisher TEXT NOT NULL,
  title TEXT NOT NULL,
  edition TEXT NOT NULL,
  basis TEXT NOT NULL,
  reference_currency TEXT,
  index_base TEXT,
  licence TEXT NOT NULL,
  source_url TEXT,
  source_file TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  rate_count INT NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ccf.rate (
  rate_table_id BIGINT NOT NULL REFERENCES ccf.rate_table (rate_table_id),
  currency TEXT NOT NULL,
  year INT NOT NULL,
  value NUMERIC NOT NULL,
  source_line INT NOT NULL,
  PRIMARY KEY (rate_table_id, currency, year)
);
