-- Knowledge base: sources, their chunks (embedding + full text), telemetry summaries, ingestion runs.
-- Runs unchanged on Postgres ≥ 15 + pgvector ≥ 0.7 and on PGlite + pgvector.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE ingest_runs (
  id              text PRIMARY KEY,
  status          text NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'abandoned')),
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  pid             integer,
  host            text,
  inputs          jsonb NOT NULL DEFAULT '[]',
  embedding_model text NOT NULL,
  counts          jsonb NOT NULL DEFAULT '{}',
  timings         jsonb NOT NULL DEFAULT '{}',
  error           text
);
CREATE INDEX ingest_runs_started_idx ON ingest_runs (started_at DESC);

-- One row per source considered by a run: the run's evidence bundle.
CREATE TABLE ingest_run_items (
  run_id       text NOT NULL REFERENCES ingest_runs (id) ON DELETE CASCADE,
  uri          text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('new', 'updated', 'unchanged', 'quarantined', 'tombstoned', 'failed')),
  kind         text,
  reason       text,
  detail       text,
  content_hash text,
  chunks       integer,
  ms           double precision,
  PRIMARY KEY (run_id, uri)
);

CREATE TABLE sources (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uri             text NOT NULL UNIQUE,
  kind            text NOT NULL CHECK (kind IN ('runbook', 'case_study', 'telemetry', 'doc')),
  -- The directory or feed a source was synced from: a source missing from a later sync of the same origin is tombstoned.
  origin          text NOT NULL,
  title           text NOT NULL,
  service         text,
  team            text,
  tags            text[] NOT NULL DEFAULT '{}',
  metadata        jsonb NOT NULL DEFAULT '{}',
  content_hash    text NOT NULL,
  embedding_model text NOT NULL,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'tombstoned')),
  created_run_id  text NOT NULL,
  updated_run_id  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  tombstoned_at   timestamptz
);
CREATE INDEX sources_origin_idx ON sources (origin) WHERE status = 'active';
CREATE INDEX sources_service_idx ON sources (service);

CREATE TABLE chunks (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id       bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
  ord             integer NOT NULL,
  heading_path    text[] NOT NULL,
  text            text NOT NULL,
  index_text      text NOT NULL,
  content_hash    text NOT NULL,
  -- Untyped so several models can coexist during a switch; each model gets its own partial HNSW index over
  -- (embedding::vector(dim)) WHERE embedding_model = '<model>', so vectors of different models are never compared.
  embedding       vector NOT NULL,
  embedding_model text NOT NULL,
  embedding_dim   integer NOT NULL,
  -- Copied from the source so filtered searches stay index-local (a tombstoned source has no chunks).
  kind            text NOT NULL,
  service         text,
  team            text,
  tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', index_text)) STORED,
  UNIQUE (source_id, ord)
);
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
CREATE INDEX chunks_source_idx ON chunks (source_id);
CREATE INDEX chunks_model_idx ON chunks (embedding_model);
CREATE INDEX chunks_filter_idx ON chunks (service, kind);

-- Registry of embedding models with an HNSW index built for them.
CREATE TABLE embedding_models (
  id         text PRIMARY KEY,
  dim        integer NOT NULL,
  index_name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Telemetry summaries, one row per (service, window). The assistant's fail-closed gate reads the latest per service.
CREATE TABLE telemetry_summaries (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id           bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
  service             text NOT NULL,
  window_start        timestamptz NOT NULL,
  window_end          timestamptz NOT NULL,
  data_quality_status text NOT NULL CHECK (data_quality_status IN ('ok', 'degraded', 'unsafe')),
  document            jsonb NOT NULL,
  content_hash        text NOT NULL,
  ingested_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id)
);
CREATE INDEX telemetry_latest_idx ON telemetry_summaries (service, window_end DESC);
