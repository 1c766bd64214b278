import type { Queryable, Transaction } from '../db/types.js'
import type { PreconditionResult } from './preconditions.js'
import type { ProposalStatus } from './types.js'

// Raw SQL for proposals and approvals, each in a small function taking a queryable. Status changes go through
// `transition` only: a conditional UPDATE on the expected current status, so a racing writer that lost
// gets null instead of overwriting someone else's decision. No function here updates params.

export interface Proposal {
  id: string
  actionId: string
  params: Record<string, unknown>
  rationale: string
  citations: string[]
  assessmentId: string | null
  alertId: string | null
  alertGroup: string
  policyVersion: number
  policySha256: string
  risk: 'low' | 'medium' | 'high'
  approvalsRequired: number
  approverRoles: string[]
  forbidSelfApproval: boolean
  preconditions: string[]
  preconditionResults: PreconditionResult[]
  requestedBy: string
  requesterKind: 'human' | 'assistant'
  idempotencyKey: string
  status: ProposalStatus
  createdAt: string
  expiresAt: string
  decidedAt: string | null
  decidedBy: string | null
  decisionReason: string | null
  handedOffAt: string | null
  handedOffTo: string | null
}

export interface Approval {
  proposalId: string
  reviewerId: string
  reviewerRoles: string[]
  role: string
  reason: string | null
  preconditionResults: PreconditionResult[]
  createdAt: string
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString())

function toProposal(r: Record<string, unknown>): Proposal {
  return {
    id: r.id as string,
    // The canonical text, not the jsonb: it is exactly what the idempotency key and the audit row saw.
    actionId: r.action_id as string,
    params: JSON.parse(r.params_canonical as string) as Record<string, unknown>,
    rationale: r.rationale as string,
    citations: r.citations as string[],
    assessmentId: (r.assessment_id as string | null) ?? null,
    alertId: (r.alert_id as string | null) ?? null,
    alertGroup: r.alert_group as string,
    policyVersion: r.policy_version as number,
    policySha256: r.policy_sha256 as string,
    risk: r.risk as Proposal['risk'],
    approvalsRequired: r.approvals_required as number,
    approverRoles: r.approver_roles as string[],
    forbidSelfApproval: r.forbid_self_approval as boolean,
    preconditions: r.preconditions as string[],
    preconditionResults: r.precondition_results as PreconditionResult[],
    requestedBy: r.requested_by as string,
    requesterKind: r.requester_kind as Proposal['requesterKind'],
    idempotencyKey: r.idempotency_key as string,
    status: r.status as ProposalStatus,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at)!,
    decidedAt: iso(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decisionReason: (r.decision_reason as string | null) ?? null,
    handedOffAt: iso(r.handed_off_at),
    handedOffTo: (r.handed_off_to as string | null) ?? null,
  }
}

export type NewProposal = Omit<Proposal, 'status' | 'decidedAt' | 'decidedBy' | 'decisionReason' | 'handedOffAt' | 'handedOffTo'> & { paramsCanonical: string }

/** Inserts unless an open proposal has the same idempotency key (then null: the caller returns that one). */
export async function insertProposal(tx: Transaction, p: NewProposal): Promise<Proposal | null> {
  // ON CONFLICT on the partial unique index instead of catching 23505: a unique violation would abort the
  // whole transaction on Postgres, and a racing twin simply waits for the first insert to commit.
  const { rows } = await tx.query<Record<string, unknown>>(
    `insert into proposals (id, action_id, params, params_canonical, rationale, citations, assessment_id, alert_id, alert_group,
        policy_version, policy_sha256, risk, approvals_required, approver_roles, forbid_self_approval, preconditions,
        precondition_results, requested_by, requester_kind, idempotency_key, status, created_at, expires_at)
     values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,'proposed',$21,$22)
     on conflict (idempotency_key) where status in ('proposed', 'approved') do nothing
     returning *`,
    [
      p.id, p.actionId, p.paramsCanonical, p.paramsCanonical, p.rationale, JSON.stringify(p.citations), p.assessmentId, p.alertId, p.alertGroup,
      p.policyVersion, p.policySha256, p.risk, p.approvalsRequired, p.approverRoles, p.forbidSelfApproval, p.preconditions,
      JSON.stringify(p.preconditionResults), p.requestedBy, p.requesterKind, p.idempotencyKey, p.createdAt, p.expiresAt,
    ],
  )
  return rows[0] ? toProposal(rows[0]) : null
}

export async function getProposal(q: Queryable, id: string): Promise<Proposal | null> {
  const { rows } = await q.query<Record<string, unknown>>('select * from proposals where id = $1', [id])
  return rows[0] ? toProposal(rows[0]) : null
}

/** Locks the row for the rest of the transaction: deciders of one proposal queue here, one at a time. */
export async function lockProposal(tx: Transaction, id: string): Promise<Proposal | null> {
  const { rows } = await tx.query<Record<string, unknown>>('select * from proposals where id = $1 for update', [id])
  return rows[0] ? toProposal(rows[0]) : null
}

export async function findOpenByKey(q: Queryable, idempotencyKey: string): Promise<Proposal | null> {
  const { rows } = await q.query<Record<string, unknown>>("select * from proposals where idempotency_key = $1 and status in ('proposed', 'approved')", [idempotencyKey])
  return rows[0] ? toProposal(rows[0]) : null
}

export async function listProposals(q: Queryable, opts: { status?: ProposalStatus; limit?: number } = {}): Promise<Proposal[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    'select * from proposals where ($1::text is null or status = $1) order by created_at desc, id limit $2',
    [opts.status ?? null, opts.limit ?? 50],
  )
  return rows.map(toProposal)
}

export interface TransitionFields {
  at: Date
  by?: string
  reason?: string | null
  handedOffTo?: string
}

/** Guarded status change: applies only if the row is still in `from`; null means someone else moved it first. */
export async function transition(tx: Transaction, id: string, from: ProposalStatus, to: ProposalStatus, f: TransitionFields): Promise<Proposal | null> {
  const handoff = to === 'handed_off'
  const { rows } = await tx.query<Record<string, unknown>>(
    `update proposals set status = $3,
        decided_at = case when $6 then decided_at else $4 end, decided_by = case when $6 then decided_by else $5 end,
        decision_reason = case when $6 then decision_reason else $7 end,
        handed_off_at = case when $6 then $4 else handed_off_at end, handed_off_to = case when $6 then $8 else handed_off_to end
     where id = $1 and status = $2 returning *`,
    [id, from, to, f.at.toISOString(), f.by ?? null, handoff, f.reason ?? null, f.handedOffTo ?? null],
  )
  return rows[0] ? toProposal(rows[0]) : null
}

/**
 * Overdue proposals, locked for this transaction. SKIP LOCKED: a row a decider holds is left to that decider,
 * which sees the deadline itself; the sweeper never waits behind (or deadlocks with) an approval.
 */
export async function lockOverdue(tx: Transaction, now: Date, opts: { idempotencyKey?: string; limit?: number } = {}): Promise<Proposal[]> {
  const { rows } = await tx.query<Record<string, unknown>>(
    `select * from proposals where status = 'proposed' and expires_at <= $1 and ($2::text is null or idempotency_key = $2)
     order by expires_at limit $3 for update skip locked`,
    [now.toISOString(), opts.idempotencyKey ?? null, opts.limit ?? 1000],
  )
  return rows.map(toProposal)
}

function toApproval(r: Record<string, unknown>): Approval {
  return {
    proposalId: r.proposal_id as string,
    reviewerId: r.reviewer_id as string,
    reviewerRoles: r.reviewer_roles as string[],
    role: r.role as string,
    reason: (r.reason as string | null) ?? null,
    preconditionResults: r.precondition_results as PreconditionResult[],
    createdAt: iso(r.created_at)!,
  }
}

/** False when this reviewer already approved (unique (proposal_id, reviewer_id)). */
export async function insertApproval(tx: Transaction, a: Approval): Promise<boolean> {
  const { rows } = await tx.query(
    `insert into approvals (proposal_id, reviewer_id, reviewer_roles, role, reason, precondition_results, created_at)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict (proposal_id, reviewer_id) do nothing returning id`,
    [a.proposalId, a.reviewerId, a.reviewerRoles, a.role, a.reason, JSON.stringify(a.preconditionResults), a.createdAt],
  )
  return rows.length === 1
}

export async function listApprovals(q: Queryable, proposalId: string): Promise<Approval[]> {
  const { rows } = await q.query<Record<string, unknown>>('select * from approvals where proposal_id = $1 order by id', [proposalId])
  return rows.map(toApproval)
}
