import { appendAudit } from '../audit/append.js'
import { withTransaction } from '../db/types.js'
import { lockForDecision } from './decide.js'
import { transition, type Proposal } from './store.js'
import { WITHDRAW_ROLES, nowOf, refuse, type ApprovalDeps, type Identity, type Refusal } from './types.js'

// The requester takes a proposal back (or an on-call lead / admin clears one). Only a `proposed` one: once
// approved, the hand-off is already queued and the state machine only goes forward to `handed_off`. The
// assistant cannot withdraw either — it decides nothing, not even in the safe direction.

export type WithdrawResult = { ok: true; proposal: Proposal } | Refusal

export async function withdraw(deps: ApprovalDeps, input: { proposalId: string; actor: Identity; reason?: string }): Promise<WithdrawResult> {
  const { actor } = input
  const now = nowOf(deps)
  return withTransaction(deps.db, async (tx) => {
    const gate = await lockForDecision(tx, {
      proposalId: input.proposalId, actor, verb: 'withdraw', now,
      authorize: (p) =>
        p.requestedBy === actor.id || actor.roles.some((r) => WITHDRAW_ROLES.includes(r))
          ? null
          : refuse('forbidden', 'not_requester', `only the requester (${p.requestedBy}) or ${WITHDRAW_ROLES.join('/')} can withdraw ${p.id}`),
    })
    if (!gate.ok) return gate
    const p = gate.proposal
    const withdrawn = await transition(tx, p.id, 'proposed', 'withdrawn', { at: now, by: actor.id, reason: input.reason ?? null })
    if (!withdrawn) throw new Error(`proposal ${p.id} changed under its row lock`)
    await appendAudit(tx, { actor: actor.id, action: 'proposal.withdrawn', subject: `proposal:${p.id}`, data: { reason: input.reason ?? null, by_requester: p.requestedBy === actor.id } }, now)
    return { ok: true, proposal: withdrawn }
  })
}
