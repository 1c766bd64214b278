-- Alerts as received (normalized + raw) and the assistant's annotations about them.
-- Annotations live apart from the knowledge tables: AI output is never a fact.

CREATE TABLE alerts (
  id           text PRIMARY KEY,
  source       text NOT NULL CHECK (source IN ('alertmanager', 'grafana', 'pagerduty', 'generic')),
  -- source + fingerprint + start: the same alert delivered again maps to the same row.
  dedup_key    text NOT NULL UNIQUE,
  fingerprint  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
  name         text NOT NULL,
  labels       jsonb NOT NULL,
  annotations  jsonb NOT NULL,
  summary      text NOT NULL,
  description  text NOT NULL,
  starts_at    timestamptz,
  links        jsonb NOT NULL,
  severity     text,
  -- The webhook body exactly as received (bounded by the HTTP body limit), for replay and forensics.
  payload      jsonb NOT NULL,
  deliveries   integer NOT NULL DEFAULT 1,
  received_at  timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE INDEX alerts_received_idx ON alerts (received_at DESC);

CREATE TABLE assessments (
  id                text PRIMARY KEY,
  subject           text NOT NULL CHECK (subject IN ('alert', 'question')),
  -- One assessment per alert: a duplicate delivery never triggers a second one.
  alert_id          text UNIQUE REFERENCES alerts (id),
  question          text,
  outcome           text NOT NULL CHECK (outcome IN ('assessed', 'unsure', 'refused')),
  refusal_reason    text CHECK (refusal_reason IN ('out_of_scope', 'low_confidence', 'data_unsafe')),
  classification    jsonb,
  draft             jsonb NOT NULL,
  evidence_pack     jsonb NOT NULL,
  -- (chunk id, content hash) of every retrieved passage, so a citation can be checked against the exact text.
  evidence_refs     jsonb NOT NULL,
  interventions     jsonb NOT NULL,
  injection_flagged boolean NOT NULL DEFAULT false,
  mode              text NOT NULL CHECK (mode IN ('deterministic', 'llm')),
  model             text NOT NULL,
  prompt_id         text NOT NULL,
  prompt_version    text NOT NULL,
  prompt_sha256     text NOT NULL,
  fallback_reason   text,
  latency_ms        double precision NOT NULL,
  prompt_tokens     integer,
  completion_tokens integer,
  confidence        double precision,
  started_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessments_created_idx ON assessments (created_at DESC);
