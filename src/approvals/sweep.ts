import { appendAudit } from '../audit/append.js'
import { withTransaction, type Database, type Transaction } from '../db/types.js'
import { lockOverdue, transition, type Proposal } from './store.js'
import { nowOf, SYSTEM_ACTOR } from './types.js'

// Expiry. A proposal nobody decided within its TTL can no longer be approved: the sweeper moves overdue rows
// to `expired`, and every decider checks the deadline itself, so approval never depends on the sweeper
// having run. Ordering rule for every approvals transaction: row changes first, audit rows last (the audit
// chain's lock is taken last, so it is never held while waiting for a proposal row).

/** Moves locked overdue proposals to `expired` (guarded: a decider that got there first wins). No audit yet. */
export async function expireRows(tx: Transaction, overdue: readonly Proposal[], now: Date): Promise<Proposal[]> {
  const moved: Proposal[] = []
  for (const p of overdue) {
    const done = await transition(tx, p.id, 'proposed', 'expired', { at: now, by: SYSTEM_ACTOR, reason: `ttl elapsed at ${p.expiresAt}` })
    if (done) moved.push(done)
  }
  return moved
}

export async function auditExpired(tx: Transaction, moved: readonly Proposal[], now: Date, triggeredBy: string): Promise<void> {
  for (const p of moved) {
    await appendAudit(tx, { actor: SYSTEM_ACTOR, action: 'proposal.expired', subject: `proposal:${p.id}`, data: { action_id: p.actionId, expires_at: p.expiresAt, triggered_by: triggeredBy } }, now)
  }
}

/** Expires proposals this transaction has locked, with their audit rows; returns the ones it moved. */
export async function expireLocked(tx: Transaction, overdue: readonly Proposal[], now: Date, triggeredBy: string): Promise<Proposal[]> {
  const moved = await expireRows(tx, overdue, now)
  await auditExpired(tx, moved, now, triggeredBy)
  return moved
}

export const isOverdue = (p: Pick<Proposal, 'status' | 'expiresAt'>, now: Date): boolean => p.status === 'proposed' && Date.parse(p.expiresAt) <= now.getTime()

/** Moves every overdue proposal to `expired`, with an audit row each. Safe to run from several replicas. */
export async function sweepExpired(deps: { db: Database; clock?: () => Date }, opts: { limit?: number } = {}): Promise<{ expired: Proposal[] }> {
  const now = nowOf(deps)
  const expired = await withTransaction(deps.db, async (tx) => expireLocked(tx, await lockOverdue(tx, now, { limit: opts.limit }), now, 'sweeper'))
  return { expired }
}
