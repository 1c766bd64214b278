-- Approval queue: policy versions, proposals, approvals and the hand-off outbox. Warden only PROPOSES and
-- records human decisions; an approved action is handed to an external executor, never performed here.

-- Every policy file Warden has loaded, once per content hash: a proposal names the exact policy that allowed it.
CREATE TABLE policy_versions (
  sha256          text PRIMARY KEY,
  version         integer NOT NULL,
  source          text NOT NULL,
  -- What the policy allowed (action ids, risk, approvals, roles, ttl, preconditions), for audits after the file is gone.
  summary         jsonb NOT NULL,
  first_loaded_at timestamptz NOT NULL
);

CREATE TABLE proposals (
  id                   text PRIMARY KEY,
  action_id            text NOT NULL,
  params               jsonb NOT NULL,
  -- The canonical JSON the idempotency key was computed from (jsonb may re-render numbers and key order).
  params_canonical     text NOT NULL,
  rationale            text NOT NULL,
  citations            jsonb NOT NULL DEFAULT '[]',
  assessment_id        text REFERENCES assessments (id),
  alert_id             text REFERENCES alerts (id),
  alert_group          text NOT NULL,
  policy_version       integer NOT NULL,
  policy_sha256        text NOT NULL REFERENCES policy_versions (sha256),
  risk                 text NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
  -- Snapshot of the policy rule at proposal time: what the reviewer is shown is what is enforced.
  approvals_required   integer NOT NULL CHECK (approvals_required >= 1),
  approver_roles       text[] NOT NULL,
  forbid_self_approval boolean NOT NULL,
  preconditions        text[] NOT NULL,
  precondition_results jsonb NOT NULL,
  requested_by         text NOT NULL,
  requester_kind       text NOT NULL CHECK (requester_kind IN ('human', 'assistant')),
  idempotency_key      text NOT NULL,
  status               text NOT NULL DEFAULT 'proposed'
                       CHECK (status IN ('proposed', 'approved', 'rejected', 'expired', 'withdrawn', 'handed_off')),
  created_at           timestamptz NOT NULL,
  expires_at           timestamptz NOT NULL,
  decided_at           timestamptz,
  decided_by           text,
  decision_reason      text,
  handed_off_at        timestamptz,
  handed_off_to        text
);
-- The same suggestion for the same alert group opens at most one live proposal; a closed one does not block a new one.
CREATE UNIQUE INDEX proposals_open_idempotency_idx ON proposals (idempotency_key) WHERE status IN ('proposed', 'approved');
CREATE INDEX proposals_status_expires_idx ON proposals (status, expires_at);
CREATE INDEX proposals_created_idx ON proposals (created_at DESC);
CREATE INDEX proposals_assessment_idx ON proposals (assessment_id);

-- Defence in depth under the guarded UPDATEs in src/approvals: what was proposed can never be rewritten, and
-- the status can only move along the state machine.
CREATE FUNCTION proposals_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.action_id IS DISTINCT FROM OLD.action_id
     OR NEW.params IS DISTINCT FROM OLD.params OR NEW.params_canonical IS DISTINCT FROM OLD.params_canonical
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key OR NEW.requested_by IS DISTINCT FROM OLD.requested_by
     OR NEW.policy_sha256 IS DISTINCT FROM OLD.policy_sha256 OR NEW.approvals_required IS DISTINCT FROM OLD.approvals_required
     OR NEW.approver_roles IS DISTINCT FROM OLD.approver_roles OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'proposal % is immutable: only its status and decision may change', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'proposed' AND NEW.status IN ('approved', 'rejected', 'expired', 'withdrawn'))
    OR (OLD.status = 'approved' AND NEW.status = 'handed_off')) THEN
    RAISE EXCEPTION 'proposal %: transition % -> % is not allowed', OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER proposals_guard BEFORE UPDATE ON proposals FOR EACH ROW EXECUTE FUNCTION proposals_guard_update();

CREATE FUNCTION approvals_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();

-- One row per human approval. N approvals required = N distinct reviewers.
CREATE TABLE approvals (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  proposal_id          text NOT NULL REFERENCES proposals (id),
  reviewer_id          text NOT NULL,
  reviewer_roles       text[] NOT NULL,
  -- The approver role that qualified the reviewer.
  role                 text NOT NULL,
  reason               text,
  precondition_results jsonb NOT NULL,
  created_at           timestamptz NOT NULL,
  UNIQUE (proposal_id, reviewer_id)
);
CREATE TRIGGER approvals_append_only BEFORE UPDATE OR DELETE ON approvals FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();

-- Transactional outbox: written in the approving transaction, then delivered to an executor webhook or claimed
-- by an executor. `body` is the exact JSON that is signed and sent, so every retry sends the same bytes.
CREATE TABLE handoff_outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  proposal_id     text NOT NULL UNIQUE REFERENCES proposals (id),
  idempotency_key text NOT NULL,
  body            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivering', 'delivered', 'claimed', 'completed', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz NOT NULL,
  -- A deliverer or executor holds a row until then; past it the row may be taken again (crash recovery).
  lease_until     timestamptz,
  claimed_by      text,
  claimed_at      timestamptz,
  delivered_at    timestamptz,
  completed_at    timestamptz,
  created_at      timestamptz NOT NULL
);
CREATE INDEX handoff_outbox_due_idx ON handoff_outbox (status, next_attempt_at);
