import { appendAudit } from '../audit/append.js'
import { withTransaction } from '../db/types.js'
import { lockForDecision, qualifyingRole } from './decide.js'
import { transition, type Proposal } from './store.js'
import { nowOf, refuse, type ApprovalDeps, type Identity, type Refusal } from './types.js'

// A reviewer who may approve may also reject, and one rejection ends the proposal whatever approvals it had
// collected: saying no is the safe direction, so it needs one human, not N. The requester may reject too
// (that is also the safe direction), as long as they hold an approver role; otherwise they withdraw.

export type RejectResult = { ok: true; proposal: Proposal } | Refusal

export async function reject(deps: ApprovalDeps, input: { proposalId: string; reviewer: Identity; reason?: string }): Promise<RejectResult> {
  const { reviewer } = input
  const now = nowOf(deps)
  return withTransaction(deps.db, async (tx) => {
    const gate = await lockForDecision(tx, {
      proposalId: input.proposalId, actor: reviewer, verb: 'reject', now,
      authorize: (p) => (qualifyingRole(reviewer, p) ? null : refuse('forbidden', 'role_not_allowed', `rejecting ${p.actionId} needs one of the roles ${p.approverRoles.join(', ')}`, { approverRoles: p.approverRoles })),
    })
    if (!gate.ok) return gate
    const p = gate.proposal
    const rejected = await transition(tx, p.id, 'proposed', 'rejected', { at: now, by: reviewer.id, reason: input.reason ?? null })
    if (!rejected) throw new Error(`proposal ${p.id} changed under its row lock`)
    await appendAudit(tx, { actor: reviewer.id, action: 'proposal.rejected', subject: `proposal:${p.id}`, data: { role: qualifyingRole(reviewer, p), reason: input.reason ?? null, action_id: p.actionId } }, now)
    return { ok: true, proposal: rejected }
  })
}
