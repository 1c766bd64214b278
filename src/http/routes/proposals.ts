import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { approve } from '../../approvals/approve.js'
import { getOutbox, type OutboxRow } from '../../approvals/outbox.js'
import { checkPreconditions } from '../../approvals/preconditions.js'
import { propose } from '../../approvals/propose.js'
import { reject } from '../../approvals/reject.js'
import { getProposal, listApprovals, listProposals, type Proposal } from '../../approvals/store.js'
import { ApproveInput, ListProposalsInput, ProposalStatus, ProposeInput, RejectInput, WithdrawInput, type Refusal } from '../../approvals/types.js'
import { withdraw } from '../../approvals/withdraw.js'
import { getAssessment } from '../../assistant/store.js'
import { requireRole } from '../auth/middleware.js'
import { API_ROLES, hasRole, identityOf, type Principal } from '../auth/roles.js'
import { ApiError } from '../errors.js'
import type { AppDeps, AppEnv } from '../types.js'
import { readJson, validate } from '../validate.js'

// The approval queue over HTTP. Who acts always comes from the bearer token (identityOf), never from the
// body: the bodies are strict, so naming a reviewer or requester in one is a 422. The domain verbs decide
// everything else (approver roles, self-approval, distinct approvers, preconditions, expiry) and refuse with
// values; a refusal becomes an error response whose details carry the stable `reason` to branch on.

export { ApproveInput, ListProposalsInput, ProposeInput, RejectInput, WithdrawInput }

export const PreconditionResultOutput = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })

export const ProposalOutput = z.object({
  id: z.string(),
  actionId: z.string(),
  params: z.record(z.string(), z.unknown()),
  rationale: z.string(),
  citations: z.array(z.string()),
  assessmentId: z.string().nullable(),
  alertId: z.string().nullable(),
  alertGroup: z.string(),
  policyVersion: z.number().int(),
  policySha256: z.string(),
  risk: z.enum(['low', 'medium', 'high']),
  approvalsRequired: z.number().int(),
  approverRoles: z.array(z.string()),
  forbidSelfApproval: z.boolean(),
  preconditions: z.array(z.string()),
  /** As evaluated when the proposal was opened. */
  preconditionResults: z.array(PreconditionResultOutput),
  requestedBy: z.string(),
  requesterKind: z.enum(['human', 'assistant']),
  idempotencyKey: z.string(),
  status: ProposalStatus,
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
  handedOffAt: z.string().nullable(),
  handedOffTo: z.string().nullable(),
})

export const ApprovalOutput = z.object({
  reviewerId: z.string(),
  reviewerRoles: z.array(z.string()),
  /** The approver role that qualified this reviewer. */
  role: z.string(),
  reason: z.string().nullable(),
  preconditionResults: z.array(PreconditionResultOutput),
  createdAt: z.string(),
})

/** Where the approved action's hand-off stands (no body: that is for the executor). */
export const HandoffStatusOutput = z.object({
  status: z.enum(['pending', 'delivering', 'delivered', 'claimed', 'completed', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  claimedBy: z.string().nullable(),
  leaseUntil: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  createdAt: z.string(),
})

export const ProposalListOutput = z.object({ proposals: z.array(ProposalOutput) })
export const ProposalCreateOutput = z.object({ created: z.boolean(), proposal: ProposalOutput })
export const ProposalDetailOutput = z.object({
  proposal: ProposalOutput,
  approvals: z.array(ApprovalOutput),
  handoff: HandoffStatusOutput.nullable(),
  /** The preconditions evaluated again now, against the latest telemetry: what approving would check. */
  preconditionsNow: z.object({
    evaluatedAt: z.string(),
    /** False when the proposal was made under another policy than the one in force (it cannot be approved). */
    policyInForce: z.boolean(),
    /** Null when the action is not in the policy in force. */
    results: z.array(PreconditionResultOutput).nullable(),
  }),
})
export const ApproveOutput = z.object({ proposal: ProposalOutput, approvals: z.number().int(), required: z.number().int(), approved: z.boolean(), handoff: HandoffStatusOutput.nullable() })
export const DecisionOutput = z.object({ proposal: ProposalOutput })

export const handoffStatus = (o: OutboxRow | null): z.infer<typeof HandoffStatusOutput> | null =>
  o && { status: o.status, attempts: o.attempts, lastError: o.lastError, claimedBy: o.claimedBy, leaseUntil: o.leaseUntil, deliveredAt: o.deliveredAt, completedAt: o.completedAt, createdAt: o.createdAt }

/** A domain refusal as an API error: the status follows the code, the reason rides in details. */
export function refusalError(r: Refusal): ApiError {
  return new ApiError(r.code, r.message, { reason: r.reason, ...(r.details === undefined ? {} : { details: r.details }) })
}

/**
 * The requester identity for opening a proposal. The domain checks PROPOSER_ROLES literally; the API's role
 * implications (reviewer ⇒ oncall, admin ⇒ all) are an API notion, so the API roles the token implies are
 * added here. Approver roles are never implied, and decisions get the token's roles unchanged.
 */
function requesterOf(p: Principal) {
  const who = identityOf(p)
  return { ...who, roles: [...new Set([...who.roles, ...API_ROLES.filter((r) => hasRole(p, r))])] }
}

const principalOf = (c: Context<AppEnv>): Principal => c.get('principal')!

export function registerProposalRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const now = () => deps.clock?.() ?? new Date()

  app.get('/v1/proposals', requireRole('oncall'), async (c) => {
    const q = validate(ListProposalsInput, { status: c.req.query('status'), limit: c.req.query('limit') })
    return c.json(ProposalListOutput.parse({ proposals: await listProposals(deps.db, q) }))
  })

  app.get('/v1/proposals/:id', requireRole('oncall'), async (c) => {
    const p = await getProposal(deps.db, c.req.param('id'))
    if (!p) throw new ApiError('not_found', 'no such proposal', { reason: 'proposal_not_found' })
    const [approvals, outbox, preconditionsNow] = await Promise.all([listApprovals(deps.db, p.id), getOutbox(deps.db, p.id), preconditionsAsOfNow(deps, p, now())])
    return c.json(ProposalDetailOutput.parse({ proposal: p, approvals, handoff: handoffStatus(outbox), preconditionsNow }))
  })

  app.post('/v1/proposals', requireRole('oncall'), async (c) => {
    const input = validate(ProposeInput, await readJson(c))
    const r = await propose(deps, input, requesterOf(principalOf(c)))
    if (!r.ok) throw refusalError(r)
    // An equal open proposal (same action, params and alert group) is returned as it is: 200, not 201.
    return c.json(ProposalCreateOutput.parse({ created: r.created, proposal: r.proposal }), r.created ? 201 : 200)
  })

  app.post('/v1/proposals/:id/approve', requireRole('reviewer'), async (c) => {
    const body = validate(ApproveInput, await readJson(c))
    const r = await approve(deps, { proposalId: c.req.param('id'), reviewer: identityOf(principalOf(c)), ...body })
    if (!r.ok) throw refusalError(r)
    return c.json(ApproveOutput.parse({ proposal: r.proposal, approvals: r.approvals, required: r.required, approved: r.approved, handoff: handoffStatus(r.outbox) }))
  })

  app.post('/v1/proposals/:id/reject', requireRole('reviewer'), async (c) => {
    const body = validate(RejectInput, await readJson(c))
    const r = await reject(deps, { proposalId: c.req.param('id'), reviewer: identityOf(principalOf(c)), ...body })
    if (!r.ok) throw refusalError(r)
    return c.json(DecisionOutput.parse({ proposal: r.proposal }))
  })

  app.post('/v1/proposals/:id/withdraw', requireRole('oncall'), async (c) => {
    const body = validate(WithdrawInput, await readJson(c))
    const r = await withdraw(deps, { proposalId: c.req.param('id'), actor: identityOf(principalOf(c)), ...body })
    if (!r.ok) throw refusalError(r)
    return c.json(DecisionOutput.parse({ proposal: r.proposal }))
  })
}

/** Read-only: the same checks approve() would run now, so a reviewer sees a failing one before clicking. */
async function preconditionsAsOfNow(deps: AppDeps, p: Proposal, at: Date) {
  const policy = deps.reference.policy
  const action = policy.action(p.actionId)
  const base = { evaluatedAt: at.toISOString(), policyInForce: p.policySha256 === policy.sha256 }
  if (!action) return { ...base, results: null }
  const evidence = p.assessmentId ? ((await getAssessment(deps.db, p.assessmentId))?.evidencePack ?? null) : null
  // The proposal's own precondition list (what approve() checks), with the action's current params spec.
  const results = await checkPreconditions(deps.db, { names: p.preconditions, action, params: p.params, catalog: deps.reference.catalog, evidence, now: at })
  return { ...base, results }
}
