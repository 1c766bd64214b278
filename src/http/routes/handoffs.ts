import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { claimApproved, completeHandoff } from '../../approvals/claim.js'
import { ClaimInput } from '../../approvals/types.js'
import { requireRole } from '../auth/middleware.js'
import { ApiError } from '../errors.js'
import type { AppDeps, AppEnv } from '../types.js'
import { validate } from '../validate.js'
import { HandoffStatusOutput, ProposalOutput, handoffStatus, refusalError } from './proposals.js'

// Hand-off by pull, for executors outside Warden when no executor webhook is configured. The executor is the
// token's identity (never a body field). Claiming leases approved actions; completing confirms the executor
// has taken one over, which moves the proposal to `handed_off`. Warden itself performs nothing here.

export { ClaimInput }
/** POST /v1/handoffs/:proposalId/complete body: nothing to say yet, but strict so a body cannot name an executor. */
export const CompleteHandoffInput = z.strictObject({})

export const HandoffPayloadOutput = z.object({
  type: z.literal('warden.approved_action'),
  proposal_id: z.string(),
  action_id: z.string(),
  params: z.record(z.string(), z.unknown()),
  idempotency_key: z.string(),
  policy: z.object({ version: z.number().int(), sha256: z.string() }),
  risk: z.string(),
  requested_by: z.string(),
  approved_by: z.array(z.object({ reviewer_id: z.string(), role: z.string(), at: z.string() })),
  approved_at: z.string(),
  assessment_id: z.string().nullable(),
  alert_id: z.string().nullable(),
})

export const HandoffClaimOutput = z.object({
  claimed: z.array(
    z.object({
      proposalId: z.string(),
      idempotencyKey: z.string(),
      /** Complete before this, or another executor may claim the action again. */
      leaseUntil: z.string().nullable(),
      attempts: z.number().int(),
      payload: HandoffPayloadOutput,
    }),
  ),
})
export const HandoffCompleteOutput = z.object({ proposal: ProposalOutput, handoff: HandoffStatusOutput })

/** An absent or empty body is `{}`: executors poll with a bare POST. Anything else must be JSON. */
async function optionalJson(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError('invalid_json', 'request body is not valid JSON')
  }
}

export function registerHandoffRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/v1/handoffs/claim', requireRole('executor'), async (c) => {
    const input = validate(ClaimInput, await optionalJson(c))
    const r = await claimApproved(deps, { executorId: c.get('principal')!.identity, limit: input.limit })
    if (!r.ok) throw refusalError(r)
    const claimed = r.claimed.map(({ outbox, payload }) => ({ proposalId: outbox.proposalId, idempotencyKey: outbox.idempotencyKey, leaseUntil: outbox.leaseUntil, attempts: outbox.attempts, payload }))
    return c.json(HandoffClaimOutput.parse({ claimed }))
  })

  app.post('/v1/handoffs/:proposalId/complete', requireRole('executor'), async (c) => {
    validate(CompleteHandoffInput, await optionalJson(c))
    const r = await completeHandoff(deps, { proposalId: c.req.param('proposalId'), executorId: c.get('principal')!.identity })
    if (!r.ok) throw refusalError(r)
    return c.json(HandoffCompleteOutput.parse({ proposal: r.proposal, handoff: handoffStatus(r.outbox) }))
  })
}
