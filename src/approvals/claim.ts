import { appendAudit } from '../audit/append.js'
import { withTransaction, type Database } from '../db/types.js'
import { lockOutbox, toOutbox, type HandoffPayload, type OutboxRow } from './outbox.js'
import { transition, type Proposal } from './store.js'
import { isAssistant, refuse, type Refusal } from './types.js'

// Hand-off by pull, when no executor webhook is configured: an external executor claims approved actions
// and later confirms it has taken them over. Claims are leased: an executor that dies without completing
// leaves its rows to be claimed again once the lease runs out. Nothing here performs the action.

export interface Claimed {
  outbox: OutboxRow
  payload: HandoffPayload
}

const DEFAULT_LEASE_MS = 5 * 60_000

export async function claimApproved(deps: { db: Database; clock?: () => Date }, opts: { executorId: string; limit: number; leaseMs?: number }): Promise<{ ok: true; claimed: Claimed[] } | Refusal> {
  if (!opts.executorId.trim()) return refuse('validation_failed', 'invalid_executor', 'executorId is required')
  if (isAssistant({ id: opts.executorId, kind: 'human' })) return refuse('forbidden', 'assistant_identity', 'the assistant identity is not an executor')
  const now = deps.clock?.() ?? new Date()
  const leaseUntil = new Date(now.getTime() + (opts.leaseMs ?? DEFAULT_LEASE_MS))
  return withTransaction(deps.db, async (tx) => {
    // SKIP LOCKED: concurrent executors take disjoint sets instead of queueing on the same rows.
    const { rows } = await tx.query<Record<string, unknown>>(
      `update handoff_outbox set status = 'claimed', claimed_by = $2, claimed_at = $3, lease_until = $4, attempts = attempts + 1, last_attempt_at = $3
       where id in (select id from handoff_outbox
                    where status = 'pending' or (status = 'claimed' and lease_until <= $3)
                    order by id limit $1 for update skip locked)
       returning *`,
      [Math.max(1, Math.min(opts.limit, 100)), opts.executorId, now.toISOString(), leaseUntil.toISOString()],
    )
    const claimed = rows.map(toOutbox).sort((a, b) => a.id - b.id)
    for (const o of claimed) {
      await appendAudit(tx, { actor: opts.executorId, action: 'handoff.claimed', subject: `proposal:${o.proposalId}`, data: { outbox_id: o.id, lease_until: o.leaseUntil, attempts: o.attempts } }, now)
    }
    return { ok: true, claimed: claimed.map((o) => ({ outbox: o, payload: JSON.parse(o.body) as HandoffPayload })) }
  })
}

/** The executor that holds the claim confirms it has taken the action over: the proposal is `handed_off`. */
export async function completeHandoff(deps: { db: Database; clock?: () => Date }, input: { proposalId: string; executorId: string }): Promise<{ ok: true; proposal: Proposal; outbox: OutboxRow } | Refusal> {
  const now = deps.clock?.() ?? new Date()
  return withTransaction(deps.db, async (tx) => {
    const o = await lockOutbox(tx, input.proposalId)
    if (!o) return refuse('not_found', 'handoff_not_found', `no hand-off for proposal ${input.proposalId}`)
    if (o.status !== 'claimed') return refuse('conflict', 'not_claimed', `hand-off of ${input.proposalId} is ${o.status}`, { status: o.status })
    if (o.claimedBy !== input.executorId) return refuse('conflict', 'claimed_by_other', `hand-off of ${input.proposalId} is claimed by another executor`)
    const { rows } = await tx.query<Record<string, unknown>>(
      "update handoff_outbox set status = 'completed', completed_at = $2, lease_until = null where id = $1 returning *",
      [o.id, now.toISOString()],
    )
    const p = await transition(tx, input.proposalId, 'approved', 'handed_off', { at: now, handedOffTo: `executor:${input.executorId}` })
    if (!p) throw new Error(`proposal ${input.proposalId} is not approved although its hand-off was claimed`)
    await appendAudit(tx, { actor: input.executorId, action: 'handoff.completed', subject: `proposal:${p.id}`, data: { outbox_id: o.id } }, now)
    return { ok: true, proposal: p, outbox: toOutbox(rows[0]!) }
  })
}
