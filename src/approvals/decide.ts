import { appendAudit } from '../audit/append.js'
import type { Transaction } from '../db/types.js'
import { lockProposal, type Proposal } from './store.js'
import { auditExpired, expireRows, isOverdue } from './sweep.js'
import { isAssistant, refuse, type Identity, type Refusal } from './types.js'

// The shared front half of approve / reject / withdraw. The proposal row is locked (SELECT … FOR UPDATE) for
// the whole transaction, so on Postgres under READ COMMITTED deciders of one proposal run one after another
// and each sees the previous one's committed outcome; the status UPDATEs that follow are guarded as well.
// Refusals of a decision on an existing proposal are audited too: an assistant or a requester trying to
// approve is exactly what an audit should show.

export type Verb = 'approve' | 'reject' | 'withdraw'
const REFUSED_ACTION: Record<Verb, string> = { approve: 'approval.refused', reject: 'rejection.refused', withdraw: 'withdrawal.refused' }

export async function auditRefusal(tx: Transaction, p: Proposal, actor: Identity, verb: Verb, r: Refusal, now: Date): Promise<Refusal> {
  await appendAudit(tx, {
    actor: actor.id, action: REFUSED_ACTION[verb], subject: `proposal:${p.id}`,
    data: { actor_kind: actor.kind, actor_roles: actor.roles, code: r.code, reason: r.reason, status: p.status },
  }, now)
  return r
}

/**
 * Locks the proposal and runs the checks every decision shares, in order: the assistant never decides (403);
 * not found (404); `authorize` (403); not `proposed` any more (409); past its deadline (409, and the
 * proposal is expired right here, whether or not the sweeper has run).
 */
export async function lockForDecision(
  tx: Transaction,
  input: { proposalId: string; actor: Identity; verb: Verb; now: Date; authorize: (p: Proposal) => Refusal | null },
): Promise<{ ok: true; proposal: Proposal } | Refusal> {
  const { actor, verb, now } = input
  const p = await lockProposal(tx, input.proposalId)
  if (isAssistant(actor)) {
    const r = refuse('forbidden', 'assistant_identity', `the assistant identity can never ${verb} a proposal; only humans decide`)
    return p ? auditRefusal(tx, p, actor, verb, r, now) : r
  }
  if (!p) return refuse('not_found', 'proposal_not_found', `no proposal ${input.proposalId}`)
  const denied = input.authorize(p)
  if (denied) return auditRefusal(tx, p, actor, verb, denied, now)
  if (p.status !== 'proposed') return auditRefusal(tx, p, actor, verb, refuse('conflict', 'not_proposed', `proposal ${p.id} is ${p.status}; only a proposed one can be ${verb === 'approve' ? 'approved' : verb === 'reject' ? 'rejected' : 'withdrawn'}`, { status: p.status }), now)
  if (isOverdue(p, now)) {
    const moved = await expireRows(tx, [p], now)
    await auditExpired(tx, moved, now, `${verb} by ${actor.id}`)
    return auditRefusal(tx, { ...p, status: 'expired' }, actor, verb, refuse('conflict', 'expired', `proposal ${p.id} expired at ${p.expiresAt}`, { status: 'expired', expiresAt: p.expiresAt }), now)
  }
  return { ok: true, proposal: p }
}

/** The approver role that qualifies this reviewer for this proposal, or null. */
export const qualifyingRole = (reviewer: Identity, p: Pick<Proposal, 'approverRoles'>): string | null => p.approverRoles.find((r) => reviewer.roles.includes(r)) ?? null
