import { getAlert, newId, type AlertRow } from '../alerts/receive.js'
import { getAssessment, getAssessmentForAlert, type Assessment } from '../assistant/store.js'
import { appendAudit, canonicalJson } from '../audit/append.js'
import { withTransaction } from '../db/types.js'
import { sha256 } from '../../ingest/hash.js'
import { validateParams, type PolicyAction } from '../policy/policy.js'
import { auditPolicyLoaded, insertPolicyVersion } from './policy-versions.js'
import { checkPreconditions } from './preconditions.js'
import { findOpenByKey, insertProposal, lockOverdue, transition, type Proposal } from './store.js'
import { auditExpired, expireRows, isOverdue } from './sweep.js'
import { ASSISTANT_ID, PROPOSER_ROLES, ProposeInput, SYSTEM_ACTOR, isAssistant, nowOf, refuse, type ApprovalDeps, type Identity, type Refusal } from './types.js'

// Opening a proposal. Only policy actions with validated params can be proposed (invariant 7): by the
// assistant from its own guarded suggestions, or by a human on call. The same suggestion for the same alert
// group opens one proposal while one is open; asking again returns that proposal as a value.

export type ProposeResult = { ok: true; created: boolean; proposal: Proposal } | Refusal

/** Stable across processes: the same action + params + alert group always gives the same key. */
export function idempotencyKey(actionId: string, canonicalParams: string, alertGroup: string): string {
  return sha256(`${actionId}\n${canonicalParams}\n${alertGroup}`)
}

/** The alert's fingerprint (stable across re-fires, unlike the dedup key), else the assessment, else manual. */
export function alertGroupOf(alert: Pick<AlertRow, 'source' | 'fingerprint'> | null, assessmentId: string | null): string {
  return alert ? `alert:${alert.source}:${alert.fingerprint}` : assessmentId ? `assessment:${assessmentId}` : 'manual'
}

interface Opening {
  action: PolicyAction
  params: Readonly<Record<string, unknown>>
  rationale: string
  citations: string[]
  assessment: Assessment | null
  alert: AlertRow | null
  requester: Identity
}

async function openProposal(deps: ApprovalDeps, o: Opening): Promise<ProposeResult> {
  const policy = deps.reference.policy
  const canonical = canonicalJson(o.params)
  const group = alertGroupOf(o.alert, o.assessment?.id ?? null)
  const key = idempotencyKey(o.action.id, canonical, group)
  const now = nowOf(deps)
  return withTransaction(deps.db, async (tx) => {
    // Row changes first, audit rows last (see sweep.ts): the audit lock is never held while waiting on a row.
    const newPolicy = await insertPolicyVersion(tx, policy, now)
    const expired = await expireRows(tx, await lockOverdue(tx, now, { idempotencyKey: key }), now)
    let existing = await findOpenByKey(tx, key)
    let superseded: Proposal | null = null
    if (existing?.status === 'proposed' && existing.policySha256 !== policy.sha256) {
      // Made under a policy no longer in force, so it can never be approved (approve.ts): close it, open anew.
      superseded = await transition(tx, existing.id, 'proposed', 'withdrawn', { at: now, by: SYSTEM_ACTOR, reason: `superseded: policy is now v${policy.version} (${policy.sha256.slice(0, 12)})` })
      if (superseded) existing = null
    }
    const audits = async () => {
      if (newPolicy) await auditPolicyLoaded(tx, policy, o.requester.id, now)
      await auditExpired(tx, expired, now, `proposal by ${o.requester.id}`)
      if (superseded) await appendAudit(tx, { actor: SYSTEM_ACTOR, action: 'proposal.withdrawn', subject: `proposal:${superseded.id}`, data: { reason: superseded.decisionReason, policy_sha256: policy.sha256 } }, now)
    }
    if (existing && !isOverdue(existing, now)) {
      const found = existing
      await audits()
      return { ok: true, created: false, proposal: found }
    }
    const results = await checkPreconditions(tx, { names: o.action.preconditions, action: o.action, params: o.params, catalog: deps.reference.catalog, evidence: o.assessment?.evidencePack ?? null, now })
    const failed = results.filter((r) => !r.ok)
    if (failed.length > 0) {
      await audits()
      return refuse('conflict', 'precondition_failed', `${o.action.id}: precondition ${failed.map((f) => f.name).join(', ')} failed: ${failed[0]!.detail}`, { preconditions: results })
    }
    const inserted = await insertProposal(tx, {
      id: newId('pr'), actionId: o.action.id, params: { ...o.params }, paramsCanonical: canonical, rationale: o.rationale, citations: o.citations,
      assessmentId: o.assessment?.id ?? null, alertId: o.alert?.id ?? null, alertGroup: group, policyVersion: policy.version, policySha256: policy.sha256,
      risk: o.action.risk, approvalsRequired: o.action.approvals, approverRoles: [...o.action.approverRoles], forbidSelfApproval: o.action.forbidSelfApproval,
      preconditions: [...o.action.preconditions], preconditionResults: results, requestedBy: o.requester.id, requesterKind: o.requester.kind,
      idempotencyKey: key, createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + o.action.ttlMs).toISOString(),
    })
    await audits()
    if (!inserted) {
      // A concurrent twin committed first: hand back its proposal.
      const twin = await findOpenByKey(tx, key)
      return twin ? { ok: true, created: false, proposal: twin } : refuse('conflict', 'concurrent_change', 'the matching open proposal changed concurrently; retry')
    }
    const p = inserted
    await appendAudit(tx, {
      actor: o.requester.id, action: 'proposal.created', subject: `proposal:${p.id}`,
      data: { action_id: p.actionId, params: p.params, requester_kind: p.requesterKind, policy_version: p.policyVersion, policy_sha256: p.policySha256, risk: p.risk, approvals_required: p.approvalsRequired, approver_roles: p.approverRoles, expires_at: p.expiresAt, idempotency_key: p.idempotencyKey, alert_group: p.alertGroup, assessment_id: p.assessmentId, alert_id: p.alertId, citations: p.citations, preconditions: results },
    }, now)
    return { ok: true, created: true, proposal: p }
  })
}

/** Params validated against the policy and catalog, citations resolved against the evidence pack. */
function prepare(deps: ApprovalDeps, actionId: string, params: unknown, citations: string[], assessment: Assessment | null): { action: PolicyAction; params: Readonly<Record<string, unknown>> } | Refusal {
  const { policy, catalog } = deps.reference
  const action = policy.action(actionId)
  if (!action) return refuse('validation_failed', 'unknown_action', `${actionId} is not an action in policy v${policy.version}`, { known: [...policy.actions.keys()] })
  const valid = validateParams(policy, actionId, params, catalog)
  if (!valid.ok) return refuse('validation_failed', 'invalid_params', valid.problems.join('; '), { problems: valid.problems })
  const refs = new Set(assessment?.evidencePack.items.map((i) => i.ref) ?? [])
  const unresolved = citations.filter((c) => !refs.has(c))
  if (unresolved.length > 0) return refuse('validation_failed', 'unresolved_citations', assessment ? `citations ${unresolved.join(', ')} are not in the evidence pack of ${assessment.id}` : 'citations refer to an assessment\'s evidence pack: give assessmentId', { unresolved })
  return { action, params: valid.params }
}

/** A human on call opens a proposal. `requester` comes from authentication, never from the body. */
export async function propose(deps: ApprovalDeps, input: unknown, requester: Identity): Promise<ProposeResult> {
  if (isAssistant(requester)) return refuse('forbidden', 'assistant_requester', 'the assistant proposes only from its own assessments (proposeFromAssessment)')
  if (!requester.roles.some((r) => PROPOSER_ROLES.includes(r))) return refuse('forbidden', 'role_not_allowed', `opening a proposal needs role ${PROPOSER_ROLES.join(' or ')}`)
  const parsed = ProposeInput.safeParse(input)
  if (!parsed.success) return refuse('validation_failed', 'invalid_input', 'proposal does not match the schema', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })))
  const inp = parsed.data
  let assessment: Assessment | null = null
  let alert: AlertRow | null = null
  if (inp.assessmentId) {
    assessment = await getAssessment(deps.db, inp.assessmentId)
    if (!assessment) return refuse('not_found', 'assessment_not_found', `no assessment ${inp.assessmentId}`)
    if (inp.alertId && inp.alertId !== assessment.alertId) return refuse('validation_failed', 'alert_mismatch', `assessment ${assessment.id} is not about alert ${inp.alertId}`)
  }
  const alertId = inp.alertId ?? assessment?.alertId ?? null
  if (alertId) {
    alert = await getAlert(deps.db, alertId)
    if (!alert) return refuse('not_found', 'alert_not_found', `no alert ${alertId}`)
    assessment ??= await getAssessmentForAlert(deps.db, alertId)
  }
  const prepared = prepare(deps, inp.actionId, inp.params, inp.citations, assessment)
  if ('ok' in prepared) return prepared
  return openProposal(deps, { ...prepared, rationale: inp.rationale, citations: inp.citations, assessment, alert, requester })
}

/** Opens one proposal per suggested action of an assessment, as the assistant. Each opens (or not) on its own. */
export async function proposeFromAssessment(deps: ApprovalDeps, input: { assessmentId: string }): Promise<{ ok: true; results: Array<{ actionId: string; result: ProposeResult }> } | Refusal> {
  const assessment = await getAssessment(deps.db, input.assessmentId)
  if (!assessment) return refuse('not_found', 'assessment_not_found', `no assessment ${input.assessmentId}`)
  // Unsure or refused assessments carry no actions; do not trust that and propose nothing from them.
  if (assessment.outcome !== 'assessed' || assessment.injectionFlagged) return { ok: true, results: [] }
  const alert = assessment.alertId ? await getAlert(deps.db, assessment.alertId) : null
  const requester: Identity = { id: ASSISTANT_ID, roles: [], kind: 'assistant' }
  const results: Array<{ actionId: string; result: ProposeResult }> = []
  for (const s of assessment.draft.actions) {
    const prepared = prepare(deps, s.actionId, s.params, s.citations, assessment)
    const result = 'ok' in prepared ? prepared : await openProposal(deps, { ...prepared, rationale: s.rationale || `suggested by assessment ${assessment.id}`, citations: s.citations, assessment, alert, requester })
    results.push({ actionId: s.actionId, result })
  }
  return { ok: true, results }
}
