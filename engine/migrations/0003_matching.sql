-- Factor matching: units of factors (to convert between units of one dimension) and the
-- region hierarchy (to fall back from a region to its parents). Both are reference data,
-- written when factor sets are installed.
CREATE TABLE IF NOT EXISTS ccf.unit (
  name TEXT PRIMARY KEY,
  scale NUMERIC NOT NULL,
  dimension TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ccf.region (
  code TEXT PRIMARY KEY,
  parent TEXT REFERENCES ccf.region (code),
  name TEXT NOT NULL,
  kind TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ccf.region_ancestor (
  region TEXT NOT NULL REFERENCES ccf.region (code),
  ancestor TEXT NOT NULL REFERENCES ccf.region (code),
  depth INT NOT NULL,
  PRIMARY KEY (region, ancestor)
);

CREATE INDEX IF NOT EXISTS factor_lookup ON ccf.factor (factor_set_id, unit, gas);
