import { createHmac, timingSafeEqual } from 'node:crypto'
import { canonicalJson } from '../audit/append.js'
import type { Queryable, Transaction } from '../db/types.js'
import type { Approval, Proposal } from './store.js'

// The hand-off outbox. The approving transaction writes the row, so an approval without a hand-off (or a
// hand-off without an approval) cannot exist. The body is rendered once, canonically, and stored: every
// delivery attempt signs and sends the same bytes, and the executor dedups on the Idempotency-Key.

export type OutboxStatus = 'pending' | 'delivering' | 'delivered' | 'claimed' | 'completed' | 'failed'

export interface OutboxRow {
  id: number
  proposalId: string
  idempotencyKey: string
  body: string
  status: OutboxStatus
  attempts: number
  lastError: string | null
  lastAttemptAt: string | null
  nextAttemptAt: string
  leaseUntil: string | null
  claimedBy: string | null
  claimedAt: string | null
  deliveredAt: string | null
  completedAt: string | null
  createdAt: string
}

/** What an executor receives: the approved action and who approved it under which policy. No instructions. */
export interface HandoffPayload {
  type: 'warden.approved_action'
  proposal_id: string
  action_id: string
  params: Record<string, unknown>
  idempotency_key: string
  policy: { version: number; sha256: string }
  risk: string
  requested_by: string
  approved_by: Array<{ reviewer_id: string; role: string; at: string }>
  approved_at: string
  assessment_id: string | null
  alert_id: string | null
}

export function handoffBody(p: Proposal, approvals: readonly Approval[], approvedAt: Date): string {
  const payload: HandoffPayload = {
    type: 'warden.approved_action',
    proposal_id: p.id,
    action_id: p.actionId,
    params: p.params,
    idempotency_key: p.idempotencyKey,
    policy: { version: p.policyVersion, sha256: p.policySha256 },
    risk: p.risk,
    requested_by: p.requestedBy,
    approved_by: approvals.map((a) => ({ reviewer_id: a.reviewerId, role: a.role, at: a.createdAt })),
    approved_at: approvedAt.toISOString(),
    assessment_id: p.assessmentId,
    alert_id: p.alertId,
  }
  return canonicalJson(payload)
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, the X-Warden-Signature header value. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
}

/** Constant-time check an executor (or a test receiver) runs on the raw bytes it received. */
export function verifySignature(body: string | Buffer, secret: string, header: string | null | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(typeof body === 'string' ? body : body.toString('utf8'), secret))
  const got = Buffer.from(header)
  return got.length === expected.length && timingSafeEqual(got, expected)
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString())

export function toOutbox(r: Record<string, unknown>): OutboxRow {
  return {
    id: r.id as number,
    proposalId: r.proposal_id as string,
    idempotencyKey: r.idempotency_key as string,
    body: r.body as string,
    status: r.status as OutboxStatus,
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    lastAttemptAt: iso(r.last_attempt_at),
    nextAttemptAt: iso(r.next_attempt_at)!,
    leaseUntil: iso(r.lease_until),
    claimedBy: (r.claimed_by as string | null) ?? null,
    claimedAt: iso(r.claimed_at),
    deliveredAt: iso(r.delivered_at),
    completedAt: iso(r.completed_at),
    createdAt: iso(r.created_at)!,
  }
}

export async function insertOutbox(tx: Transaction, p: Proposal, body: string, now: Date): Promise<OutboxRow> {
  const { rows } = await tx.query<Record<string, unknown>>(
    `insert into handoff_outbox (proposal_id, idempotency_key, body, status, next_attempt_at, created_at)
     values ($1, $2, $3, 'pending', $4, $4) returning *`,
    [p.id, p.idempotencyKey, body, now.toISOString()],
  )
  return toOutbox(rows[0]!)
}

export async function getOutbox(q: Queryable, proposalId: string): Promise<OutboxRow | null> {
  const { rows } = await q.query<Record<string, unknown>>('select * from handoff_outbox where proposal_id = $1', [proposalId])
  return rows[0] ? toOutbox(rows[0]) : null
}

export async function lockOutbox(tx: Transaction, proposalId: string): Promise<OutboxRow | null> {
  const { rows } = await tx.query<Record<string, unknown>>('select * from handoff_outbox where proposal_id = $1 for update', [proposalId])
  return rows[0] ? toOutbox(rows[0]) : null
}
