-- Background runs (engine/service/jobs.py, engine/service/worker.py): a run asked for through
-- the HTTP service is a job, queued here and executed by a `ccf worker`. A worker claims a queued
-- job with FOR UPDATE SKIP LOCKED and holds a session advisory lock on it while it runs; a
-- running job whose lock is free has lost its worker (killed, or its connection broken), and is
-- queued again, or failed with the reason once it has had max_attempts.
CREATE TABLE IF NOT EXISTS ccf.run_job (
  job_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id BIGINT NOT NULL DEFAULT ccf.owning_org() REFERENCES ccf.organisation (org_id),
  dataset TEXT NOT NULL,
  versions TEXT[] NOT NULL,  -- 'id@version' or 'id' (its latest published version); none: every latest published
  idempotency_key TEXT,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  attempts INT NOT NULL DEFAULT 0,
  max_attempts INT NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  -- progress: methodology i of n (the one running, 1-based; 0 before the first), rows done of the total
  methodology_index INT NOT NULL DEFAULT 0,
  methodology_count INT,
  methodology TEXT,
  rows_done BIGINT NOT NULL DEFAULT 0,
  rows_total BIGINT,
  run_id BIGINT REFERENCES ccf.run (run_id) ON DELETE SET NULL,
  error TEXT,
  worker TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  UNIQUE (org_id, idempotency_key),
  CHECK (state <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS run_job_queued ON ccf.run_job (job_id) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS run_job_org ON ccf.run_job (org_id, job_id);
