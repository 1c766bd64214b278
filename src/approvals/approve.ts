import { getAssessment } from '../assistant/store.js'
import { appendAudit } from '../audit/append.js'
import { withTransaction } from '../db/types.js'
import { auditRefusal, lockForDecision, qualifyingRole } from './decide.js'
import { handoffBody, insertOutbox, type OutboxRow } from './outbox.js'
import { checkPreconditions } from './preconditions.js'
import { insertApproval, listApprovals, transition, type Proposal } from './store.js'
import { nowOf, refuse, type ApprovalDeps, type Identity, type Refusal } from './types.js'

// A human approves. Reviewer identity and roles come from authentication. N approvals required means N
// distinct humans; the Nth moves the proposal to `approved` and writes the hand-off outbox row in the same
// transaction. Preconditions are evaluated again now, against the latest telemetry: what was safe when the
// assistant looked may not be any more. Warden still executes nothing: the outbox is a message for an
// external executor (deliver.ts / claim.ts).

export type ApproveResult =
  | { ok: true; proposal: Proposal; approvals: number; required: number; approved: boolean; outbox: OutboxRow | null }
  | Refusal

export async function approve(deps: ApprovalDeps, input: { proposalId: string; reviewer: Identity; reason?: string }): Promise<ApproveResult> {
  const { reviewer } = input
  const now = nowOf(deps)
  const policy = deps.reference.policy
  return withTransaction(deps.db, async (tx) => {
    const gate = await lockForDecision(tx, {
      proposalId: input.proposalId, actor: reviewer, verb: 'approve', now,
      authorize: (p) => {
        if (p.forbidSelfApproval && p.requestedBy === reviewer.id) return refuse('forbidden', 'self_approval', `${reviewer.id} requested proposal ${p.id} and cannot approve it`)
        if (!qualifyingRole(reviewer, p)) return refuse('forbidden', 'role_not_allowed', `approving ${p.actionId} needs one of the roles ${p.approverRoles.join(', ')}`, { approverRoles: p.approverRoles })
        return null
      },
    })
    if (!gate.ok) return gate
    const p = gate.proposal
    const refused = (r: Refusal) => auditRefusal(tx, p, reviewer, 'approve', r, now)
    const prior = await listApprovals(tx, p.id)
    if (prior.some((a) => a.reviewerId === reviewer.id)) return refused(refuse('conflict', 'already_approved_by_reviewer', `${reviewer.id} has already approved ${p.id}; ${p.approvalsRequired} distinct approvers are required`))
    // Made under another policy than the one in force: its rules (roles, approvals, preconditions) are not
    // today's. Fail closed; proposing again under the current policy supersedes it.
    if (p.policySha256 !== policy.sha256) return refused(refuse('conflict', 'policy_changed', `proposal ${p.id} was made under policy v${p.policyVersion} (${p.policySha256.slice(0, 12)}); v${policy.version} (${policy.sha256.slice(0, 12)}) is in force`))
    const action = policy.action(p.actionId)
    if (!action) return refused(refuse('conflict', 'policy_changed', `${p.actionId} is not in the policy in force`))
    const evidence = p.assessmentId ? ((await getAssessment(tx, p.assessmentId))?.evidencePack ?? null) : null
    const results = await checkPreconditions(tx, { names: p.preconditions, action, params: p.params, catalog: deps.reference.catalog, evidence, now })
    const failed = results.filter((r) => !r.ok)
    if (failed.length > 0) return refused(refuse('conflict', 'precondition_failed', `precondition ${failed.map((f) => f.name).join(', ')} no longer holds: ${failed[0]!.detail}`, { preconditions: results }))

    const approval = { proposalId: p.id, reviewerId: reviewer.id, reviewerRoles: [...reviewer.roles], role: qualifyingRole(reviewer, p)!, reason: input.reason ?? null, preconditionResults: results, createdAt: now.toISOString() }
    // The row lock makes this a formality; the unique (proposal_id, reviewer_id) is the backstop.
    if (!(await insertApproval(tx, approval))) return refused(refuse('conflict', 'already_approved_by_reviewer', `${reviewer.id} has already approved ${p.id}`))
    const count = prior.length + 1
    let approved: Proposal | null = null
    let outbox: OutboxRow | null = null
    if (count >= p.approvalsRequired) {
      approved = await transition(tx, p.id, 'proposed', 'approved', { at: now, by: reviewer.id, reason: input.reason ?? null })
      // Impossible while we hold the row lock; if it ever happens, roll everything back rather than half-approve.
      if (!approved) throw new Error(`proposal ${p.id} changed under its row lock`)
      outbox = await insertOutbox(tx, approved, handoffBody(approved, [...prior, approval], now), now)
    }
    const subject = `proposal:${p.id}`
    await appendAudit(tx, { actor: reviewer.id, action: 'approval.recorded', subject, data: { role: approval.role, reviewer_roles: approval.reviewerRoles, reason: approval.reason, approvals: count, required: p.approvalsRequired, preconditions: results } }, now)
    if (approved && outbox) {
      await appendAudit(tx, { actor: reviewer.id, action: 'proposal.approved', subject, data: { action_id: p.actionId, params: p.params, approvers: [...prior.map((a) => a.reviewerId), reviewer.id], policy_sha256: p.policySha256 } }, now)
      await appendAudit(tx, { actor: reviewer.id, action: 'handoff.queued', subject, data: { outbox_id: outbox.id, idempotency_key: outbox.idempotencyKey } }, now)
    }
    return { ok: true, proposal: approved ?? p, approvals: count, required: p.approvalsRequired, approved: approved !== null, outbox }
  })
}
