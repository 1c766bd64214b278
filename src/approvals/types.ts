import { z } from 'zod'
import type { Database } from '../db/types.js'
import type { Reference } from '../policy/reference.js'

// Shared contract of the approval queue. Warden PROPOSES; humans decide; nothing here executes anything.
// Who is acting (identity, roles, human or assistant) always comes from authentication and is passed as a
// separate argument: the HTTP bodies below are strict, so a body that tries to name a reviewer is rejected.

/** The assistant's identity. It may open proposals from its own suggestions and can never decide one. */
export const ASSISTANT_ID = 'assistant'
/** Actor of transitions nobody asked for directly (expiry). */
export const SYSTEM_ACTOR = 'system:approvals'
/** Roles that may open a proposal by hand. */
export const PROPOSER_ROLES: readonly string[] = Object.freeze(['oncall'])
/** Besides the requester, these roles may withdraw a proposal. */
export const WITHDRAW_ROLES: readonly string[] = Object.freeze(['oncall-lead', 'admin'])

export const ProposalStatus = z.enum(['proposed', 'approved', 'rejected', 'expired', 'withdrawn', 'handed_off'])
export type ProposalStatus = z.infer<typeof ProposalStatus>

export const Identity = z.object({
  id: z.string().trim().min(1).max(200),
  roles: z.array(z.string().min(1).max(100)).max(50),
  kind: z.enum(['human', 'assistant']),
})
export type Identity = z.infer<typeof Identity>

/** An identity is the assistant whatever it claims to be when its id is the assistant's. */
export const isAssistant = (who: Pick<Identity, 'id' | 'kind'>): boolean => who.kind === 'assistant' || who.id === ASSISTANT_ID

const Reason = z.string().trim().min(1).max(2000)

/** POST /v1/proposals body (a human opening a proposal). */
export const ProposeInput = z.strictObject({
  actionId: z.string().min(1).max(100),
  params: z.record(z.string(), z.unknown()),
  rationale: z.string().trim().min(1).max(4000),
  citations: z.array(z.string().max(20)).max(50).default([]),
  assessmentId: z.string().min(1).max(100).optional(),
  alertId: z.string().min(1).max(100).optional(),
})
export type ProposeInput = z.infer<typeof ProposeInput>

/** POST /v1/proposals/:id/approve body. */
export const ApproveInput = z.strictObject({ reason: Reason.optional() })
export type ApproveInput = z.infer<typeof ApproveInput>
/** POST /v1/proposals/:id/reject body. */
export const RejectInput = z.strictObject({ reason: Reason.optional() })
export type RejectInput = z.infer<typeof RejectInput>
/** POST /v1/proposals/:id/withdraw body. */
export const WithdrawInput = z.strictObject({ reason: Reason.optional() })
export type WithdrawInput = z.infer<typeof WithdrawInput>
/** GET /v1/proposals query. */
export const ListProposalsInput = z.object({
  status: ProposalStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
})
export type ListProposalsInput = z.infer<typeof ListProposalsInput>
/** POST /v1/handoffs/claim body (an external executor, authenticated as executorId). */
export const ClaimInput = z.strictObject({ limit: z.number().int().min(1).max(100).default(10) })

export type RefusalCode = 'forbidden' | 'conflict' | 'not_found' | 'validation_failed'
/** Codes map to HTTP statuses one to one (see src/http/errors.ts). */
export const REFUSAL_HTTP_STATUS: Readonly<Record<RefusalCode, number>> = Object.freeze({ forbidden: 403, conflict: 409, not_found: 404, validation_failed: 422 })

/** A refusal a caller must branch on: returned, never thrown. `reason` is a stable machine-readable sub-code. */
export interface Refusal {
  readonly ok: false
  readonly code: RefusalCode
  readonly reason: string
  readonly message: string
  readonly details?: unknown
}
export const refuse = (code: RefusalCode, reason: string, message: string, details?: unknown): Refusal => ({ ok: false, code, reason, message, ...(details === undefined ? {} : { details }) })

export interface ApprovalDeps {
  db: Database
  /** The policy currently in force, with the catalog it was checked against. */
  reference: Pick<Reference, 'catalog' | 'policy'>
  clock?: () => Date
}

export const nowOf = (deps: { clock?: () => Date }): Date => deps.clock?.() ?? new Date()
