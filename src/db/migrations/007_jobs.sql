-- Background jobs (today: one assessment per webhook alert). Our own small queue instead of pg-boss so the same
-- SQL runs on embedded PGlite and on Postgres. Several replicas claim with FOR UPDATE SKIP LOCKED and a lease:
-- a worker that dies holding a job loses nothing, the job becomes due again when its lease runs out.
CREATE TABLE jobs (
  id            text PRIMARY KEY,
  kind          text NOT NULL,
  payload       jsonb NOT NULL,
  -- Re-delivered alerts map to the same key: a job is queued at most once per (kind, dedupe_key).
  dedupe_key    text NOT NULL,
  -- queued → running → done; a failed attempt waits as `failed` until run_at; out of attempts → dead.
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts  integer NOT NULL CHECK (max_attempts >= 1),
  -- When the job is next due: for queued/failed rows the (backoff) start, for running rows the lease end,
  -- so one index finds both new work and work abandoned by a crashed worker.
  run_at        timestamptz NOT NULL,
  locked_by     text,
  locked_until  timestamptz,
  -- Short, for operators: error class and message, truncated and scrubbed of credentials.
  last_error    text CHECK (last_error IS NULL OR length(last_error) <= 500),
  result        jsonb,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  UNIQUE (kind, dedupe_key)
);
CREATE INDEX jobs_due_idx ON jobs (kind, run_at) WHERE status IN ('queued', 'failed', 'running');
