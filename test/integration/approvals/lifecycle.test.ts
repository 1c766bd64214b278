import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approve } from '../../../src/approvals/approve.js'
import { getOutbox } from '../../../src/approvals/outbox.js'
import { listPolicyVersions, recordPolicyLoad } from '../../../src/approvals/policy-versions.js'
import { propose, proposeFromAssessment } from '../../../src/approvals/propose.js'
import { reject } from '../../../src/approvals/reject.js'
import { getProposal, listApprovals, type Proposal } from '../../../src/approvals/store.js'
import { sweepExpired } from '../../../src/approvals/sweep.js'
import { withdraw } from '../../../src/approvals/withdraw.js'
import { ApproveInput, ProposeInput, REFUSAL_HTTP_STATUS } from '../../../src/approvals/types.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { ASSISTANT, DBA, IC, LEAD, ONCALL, SRE, SRE2, auditActions, count, demoReference, depsFor, human, reference, seedAssessment, seedTelemetry } from './fixtures.js'

const HOUR = 3600_000
const restart = (workload = 'checkout-api') => ({ actionId: 'restart_workload', params: { service: 'checkout-api', workload } })

describe(`approval queue (${backend})`, () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase()
    await seedTelemetry(t.db, 'checkout-api', { status: 'ok' })
    await seedTelemetry(t.db, 'orders-db', { status: 'ok', signals: { replication_lag_s: 0.4 } })
  })
  afterAll(async () => t?.cleanup())

  /** An assistant proposal for a fresh alert; returns the open proposal. */
  async function assistantProposal(action: { actionId: string; params: Record<string, unknown> } = restart(), opts: { service?: string; clock?: () => Date } = {}): Promise<Proposal> {
    const { assessmentId } = await seedAssessment(t.db, { service: opts.service ?? 'checkout-api', actions: [action] })
    const r = await proposeFromAssessment(depsFor(t.db, opts.clock), { assessmentId })
    if (!r.ok) throw new Error(r.message)
    const res = r.results[0]!.result
    if (!res.ok) throw new Error(`${res.reason}: ${res.message}`)
    return res.proposal
  }

  it('records each policy version once per sha256, with a policy.loaded audit row', async () => {
    expect(await recordPolicyLoad(t.db, reference.policy)).toEqual({ recorded: true })
    expect(await recordPolicyLoad(t.db, reference.policy)).toEqual({ recorded: false })
    expect(await recordPolicyLoad(t.db, demoReference.policy)).toEqual({ recorded: true })
    const versions = await listPolicyVersions(t.db)
    expect(versions.map((v) => v.sha256).sort()).toEqual([reference.policy.sha256, demoReference.policy.sha256].sort())
    expect(versions.find((v) => v.sha256 === reference.policy.sha256)).toMatchObject({ version: 7 })
    expect(await count(t.db, "select count(*)::int n from audit_log where action = 'policy.loaded'")).toBe(2)
  })

  it('opens a proposal from an assessment suggestion with everything it was made under', async () => {
    const before = Date.now()
    const { assessmentId, alertId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [restart()] })
    const r = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const res = r.results[0]!.result
    expect(res).toMatchObject({ ok: true, created: true })
    if (!res.ok) return
    const p = res.proposal
    expect(p).toMatchObject({
      actionId: 'restart_workload', params: { service: 'checkout-api', workload: 'checkout-api' }, status: 'proposed', requestedBy: 'assistant', requesterKind: 'assistant',
      assessmentId, alertId, policyVersion: 7, policySha256: reference.policy.sha256, risk: 'low', approvalsRequired: 1, approverRoles: ['oncall-lead', 'sre'], citations: ['E1'],
    })
    expect(p.idempotencyKey).toMatch(/^[0-9a-f]{64}$/)
    expect(Date.parse(p.expiresAt) - Date.parse(p.createdAt)).toBe(2 * HOUR)
    expect(Date.parse(p.createdAt)).toBeGreaterThanOrEqual(before - 1000)
    expect(p.preconditionResults.map((x) => [x.name, x.ok])).toEqual([['service_known', true], ['telemetry_safe', true]])
    expect(await auditActions(t.db, p.id)).toEqual(['proposal.created'])
  })

  it('the same suggestion for the same alert group returns the open proposal; changed params are a different proposal', async () => {
    const { assessmentId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [restart()], fingerprint: 'groupdup01' })
    const first = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    const again = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    // A re-fire of the same alert (same fingerprint, new start) is the same alert group.
    const refire = await seedAssessment(t.db, { service: 'checkout-api', actions: [restart()], fingerprint: 'groupdup01' })
    const third = await proposeFromAssessment(depsFor(t.db), { assessmentId: refire.assessmentId })
    if (!first.ok || !again.ok || !third.ok) throw new Error('unexpected refusal')
    const [a, b, c] = [first, again, third].map((x) => x.results[0]!.result)
    expect(a).toMatchObject({ ok: true, created: true })
    expect(b).toMatchObject({ ok: true, created: false })
    expect(c).toMatchObject({ ok: true, created: false })
    if (!a!.ok || !b!.ok || !c!.ok) return
    expect(b!.proposal.id).toBe(a!.proposal.id)
    expect(c!.proposal.id).toBe(a!.proposal.id)
    // A human asking for the same thing on the same alert also gets it back.
    const byHuman = await propose(depsFor(t.db), { ...restart(), rationale: 'same', alertId: refire.alertId }, ONCALL)
    expect(byHuman).toMatchObject({ ok: true, created: false, proposal: { id: a!.proposal.id } })
    const changed = await propose(depsFor(t.db), { ...restart('checkout-api-worker'), rationale: 'other workload', alertId: refire.alertId }, ONCALL)
    expect(changed).toMatchObject({ ok: true, created: true })
    if (!changed.ok) return
    expect(changed.proposal.id).not.toBe(a!.proposal.id)
    expect(changed.proposal.idempotencyKey).not.toBe(a!.proposal.idempotencyKey)
    expect(await count(t.db, "select count(*)::int n from proposals where alert_group = 'alert:alertmanager:groupdup01'")).toBe(2)
    // Once closed, the same suggestion may open a new proposal.
    expect(await reject(depsFor(t.db), { proposalId: a!.proposal.id, reviewer: SRE, reason: 'not needed' })).toMatchObject({ ok: true })
    const reopened = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    if (!reopened.ok) throw new Error('unexpected')
    expect(reopened.results[0]!.result).toMatchObject({ ok: true, created: true })
  })

  it('a human needs role oncall to propose; params are validated and canonical; citations must resolve', async () => {
    const input = { ...restart(), rationale: 'pods OOMKilled' }
    expect(await propose(depsFor(t.db), input, SRE)).toMatchObject({ ok: false, code: 'forbidden', reason: 'role_not_allowed' })
    expect(await propose(depsFor(t.db), input, ASSISTANT)).toMatchObject({ ok: false, code: 'forbidden', reason: 'assistant_requester' })
    expect(await propose(depsFor(t.db), { ...input, actionId: 'delete_namespace' }, ONCALL)).toMatchObject({ ok: false, code: 'validation_failed', reason: 'unknown_action' })
    expect(await propose(depsFor(t.db), { ...input, params: { service: 'checkout-api', workload: 'Bad Name!' } }, ONCALL)).toMatchObject({ ok: false, code: 'validation_failed', reason: 'invalid_params' })
    expect(await propose(depsFor(t.db), { ...input, params: { service: 'checkout-api', workload: 'x', replicas: 3 } }, ONCALL)).toMatchObject({ ok: false, code: 'validation_failed', reason: 'invalid_params' })
    expect(await propose(depsFor(t.db), { ...input, citations: ['E1'] }, ONCALL)).toMatchObject({ ok: false, code: 'validation_failed', reason: 'unresolved_citations' })
    expect(await propose(depsFor(t.db), { ...input, reviewer: 'sam' }, ONCALL)).toMatchObject({ ok: false, code: 'validation_failed', reason: 'invalid_input' })
    expect(await propose(depsFor(t.db), { ...input, alertId: 'al_missing' }, ONCALL)).toMatchObject({ ok: false, code: 'not_found' })
    // Aliases are rewritten to the catalog name before the key is computed.
    const alias = await propose(depsFor(t.db), { ...input, params: { workload: 'checkout-api', service: 'checkout' } }, ONCALL)
    expect(alias).toMatchObject({ ok: true, created: true, proposal: { params: { service: 'checkout-api', workload: 'checkout-api' }, requestedBy: 'olivia', requesterKind: 'human', alertGroup: 'manual' } })
    expect(ProposeInput.safeParse({ ...input, reviewer: { id: 'x' } }).success).toBe(false)
    expect(ApproveInput.safeParse({ reviewer: 'sam' }).success).toBe(false)
    expect(REFUSAL_HTTP_STATUS).toMatchObject({ forbidden: 403, conflict: 409, not_found: 404, validation_failed: 422 })
  })

  it('one approval by an allowed human approves, writes the outbox row and the audit rows in one go', async () => {
    const p = await assistantProposal()
    const r = await approve(depsFor(t.db), { proposalId: p.id, reviewer: SRE, reason: 'restart is the runbook step' })
    expect(r).toMatchObject({ ok: true, approved: true, approvals: 1, required: 1, proposal: { status: 'approved', decidedBy: 'sam' } })
    const outbox = await getOutbox(t.db, p.id)
    expect(outbox).toMatchObject({ status: 'pending', attempts: 0, idempotencyKey: p.idempotencyKey })
    expect(JSON.parse(outbox!.body)).toMatchObject({ action_id: 'restart_workload', params: p.params, idempotency_key: p.idempotencyKey, approved_by: [{ reviewer_id: 'sam', role: 'sre' }], policy: { version: 7 } })
    expect(await auditActions(t.db, p.id)).toEqual(['proposal.created', 'approval.recorded', 'proposal.approved', 'handoff.queued'])
    // Anything after that is refused: the state machine only goes forward to handed_off.
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: SRE2 })).toMatchObject({ ok: false, code: 'conflict', reason: 'not_proposed' })
    expect(await reject(depsFor(t.db), { proposalId: p.id, reviewer: SRE2 })).toMatchObject({ ok: false, code: 'conflict', reason: 'not_proposed' })
    expect(await withdraw(depsFor(t.db), { proposalId: p.id, actor: LEAD })).toMatchObject({ ok: false, code: 'conflict', reason: 'not_proposed' })
    expect((await getProposal(t.db, p.id))!.status).toBe('approved')
  })

  it('refuses: assistant (even claiming human), requester self-approval, wrong role, unknown proposal', async () => {
    const p = await propose(depsFor(t.db), { ...restart('checkout-api-web'), rationale: 'manual restart' }, human('rita', 'oncall', 'sre'))
    if (!p.ok) throw new Error(p.message)
    const id = p.proposal.id
    expect(await approve(depsFor(t.db), { proposalId: id, reviewer: ASSISTANT })).toMatchObject({ ok: false, code: 'forbidden', reason: 'assistant_identity' })
    expect(await approve(depsFor(t.db), { proposalId: id, reviewer: { ...ASSISTANT, kind: 'human' } })).toMatchObject({ ok: false, code: 'forbidden', reason: 'assistant_identity' })
    expect(await approve(depsFor(t.db), { proposalId: id, reviewer: human('rita', 'oncall', 'sre') })).toMatchObject({ ok: false, code: 'forbidden', reason: 'self_approval' })
    expect(await approve(depsFor(t.db), { proposalId: id, reviewer: human('otto', 'oncall', 'dba') })).toMatchObject({ ok: false, code: 'forbidden', reason: 'role_not_allowed' })
    expect(await approve(depsFor(t.db), { proposalId: 'pr_nope', reviewer: SRE })).toMatchObject({ ok: false, code: 'not_found' })
    expect((await getProposal(t.db, id))!.status).toBe('proposed')
    expect(await listApprovals(t.db, id)).toEqual([])
    expect(await count(t.db, 'select count(*)::int n from handoff_outbox where proposal_id = $1', [id])).toBe(0)
    expect(await auditActions(t.db, id)).toEqual(['proposal.created', 'approval.refused', 'approval.refused', 'approval.refused', 'approval.refused'])
  })

  it('an approval after the TTL is refused with conflict and the proposal ends expired, sweeper or not', async () => {
    const p = await assistantProposal(restart('checkout-api-late'))
    const later = () => new Date(Date.parse(p.expiresAt) + 1000)
    expect(await approve(depsFor(t.db, later), { proposalId: p.id, reviewer: SRE })).toMatchObject({ ok: false, code: 'conflict', reason: 'expired' })
    expect((await getProposal(t.db, p.id))!.status).toBe('expired')
    expect(await auditActions(t.db, p.id)).toEqual(['proposal.created', 'proposal.expired', 'approval.refused'])
    expect(await count(t.db, 'select count(*)::int n from approvals where proposal_id = $1', [p.id])).toBe(0)
  })

  it('a precondition that fails now (newer unsafe telemetry) refuses with the failing check; the proposal stays proposed', async () => {
    await seedTelemetry(t.db, 'search-indexer', { status: 'ok', windowEnd: new Date(Date.now() - 60_000) })
    const p = await assistantProposal({ actionId: 'restart_workload', params: { service: 'search-indexer', workload: 'search-indexer' } }, { service: 'search-indexer' })
    await seedTelemetry(t.db, 'search-indexer', { status: 'unsafe', windowEnd: new Date() })
    const r = await approve(depsFor(t.db), { proposalId: p.id, reviewer: SRE })
    expect(r).toMatchObject({ ok: false, code: 'conflict', reason: 'precondition_failed' })
    if (r.ok) return
    expect((r.details as { preconditions: Array<{ name: string; ok: boolean }> }).preconditions.filter((x) => !x.ok).map((x) => x.name)).toEqual(['telemetry_safe'])
    expect((await getProposal(t.db, p.id))!.status).toBe('proposed')
    // Telemetry recovers: the same reviewer can approve.
    await seedTelemetry(t.db, 'search-indexer', { status: 'ok', windowEnd: new Date(Date.now() + 1000) })
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: SRE })).toMatchObject({ ok: true, approved: true })
  })

  it('failover_database needs two distinct approvers holding dba / incident-commander', async () => {
    const p = await assistantProposal({ actionId: 'failover_database', params: { service: 'orders-db' } }, { service: 'orders-db' })
    expect(p).toMatchObject({ risk: 'high', approvalsRequired: 2, approverRoles: ['dba', 'incident-commander'] })
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: SRE })).toMatchObject({ ok: false, code: 'forbidden', reason: 'role_not_allowed' })
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: DBA })).toMatchObject({ ok: true, approved: false, approvals: 1, required: 2, proposal: { status: 'proposed' } })
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: DBA })).toMatchObject({ ok: false, code: 'conflict', reason: 'already_approved_by_reviewer' })
    expect(await getOutbox(t.db, p.id)).toBeNull()
    expect(await approve(depsFor(t.db), { proposalId: p.id, reviewer: IC })).toMatchObject({ ok: true, approved: true, approvals: 2, proposal: { status: 'approved' } })
    expect((await listApprovals(t.db, p.id)).map((a) => [a.reviewerId, a.role])).toEqual([['dana', 'dba'], ['ivan', 'incident-commander']])
    expect(JSON.parse((await getOutbox(t.db, p.id))!.body).approved_by.map((a: { reviewer_id: string }) => a.reviewer_id)).toEqual(['dana', 'ivan'])
  })

  it('replication lag at 30s or more fails replication_lag_below_30s', async () => {
    const p = await assistantProposal({ actionId: 'failover_database', params: { service: 'inventory-db' } }, { service: 'inventory-db' }).catch((e: Error) => e)
    expect(p).toBeInstanceOf(Error) // no telemetry at all for inventory-db: fails closed at proposal time
    await seedTelemetry(t.db, 'inventory-db', { signals: { replication_lag_s: 2 } })
    const q = await assistantProposal({ actionId: 'failover_database', params: { service: 'inventory-db' } }, { service: 'inventory-db' })
    await seedTelemetry(t.db, 'inventory-db', { signals: { replication_lag_s: 45 }, windowEnd: new Date(Date.now() + 1000) })
    const r = await approve(depsFor(t.db), { proposalId: q.id, reviewer: DBA })
    expect(r).toMatchObject({ ok: false, code: 'conflict', reason: 'precondition_failed' })
    expect(r.ok ? '' : r.message).toMatch(/replication lag 45s/)
  })

  it('reject ends the proposal; withdraw by the requester or a lead, not by someone else', async () => {
    const a = await assistantProposal(restart('checkout-api-r1'))
    expect(await reject(depsFor(t.db), { proposalId: a.id, reviewer: ONCALL })).toMatchObject({ ok: false, code: 'forbidden', reason: 'role_not_allowed' })
    expect(await reject(depsFor(t.db), { proposalId: a.id, reviewer: ASSISTANT })).toMatchObject({ ok: false, code: 'forbidden', reason: 'assistant_identity' })
    expect(await reject(depsFor(t.db), { proposalId: a.id, reviewer: LEAD, reason: 'noise' })).toMatchObject({ ok: true, proposal: { status: 'rejected', decidedBy: 'lee', decisionReason: 'noise' } })
    expect(await approve(depsFor(t.db), { proposalId: a.id, reviewer: SRE })).toMatchObject({ ok: false, code: 'conflict', reason: 'not_proposed' })

    const mine = await propose(depsFor(t.db), { ...restart('checkout-api-w1'), rationale: 'try a restart' }, ONCALL)
    if (!mine.ok) throw new Error(mine.message)
    expect(await withdraw(depsFor(t.db), { proposalId: mine.proposal.id, actor: human('oscar', 'oncall') })).toMatchObject({ ok: false, code: 'forbidden', reason: 'not_requester' })
    expect(await withdraw(depsFor(t.db), { proposalId: mine.proposal.id, actor: ONCALL, reason: 'recovered' })).toMatchObject({ ok: true, proposal: { status: 'withdrawn' } })
    const other = await assistantProposal(restart('checkout-api-w2'))
    expect(await withdraw(depsFor(t.db), { proposalId: other.id, actor: ASSISTANT })).toMatchObject({ ok: false, code: 'forbidden' })
    expect(await withdraw(depsFor(t.db), { proposalId: other.id, actor: LEAD })).toMatchObject({ ok: true, proposal: { status: 'withdrawn' } })
    expect(await auditActions(t.db, other.id)).toEqual(['proposal.created', 'withdrawal.refused', 'proposal.withdrawn'])
  })

  it('sweepExpired moves overdue proposals to expired with an audit row each and leaves the rest', async () => {
    const due = await assistantProposal(restart('checkout-api-s1'))
    const notDue = await assistantProposal(restart('checkout-api-s2'), { clock: () => new Date(Date.now() + HOUR) })
    const at = new Date(Date.parse(due.expiresAt) + 1)
    const { expired } = await sweepExpired({ db: t.db, clock: () => at })
    expect(expired.map((p) => p.id)).toContain(due.id)
    expect(expired.map((p) => p.id)).not.toContain(notDue.id)
    expect((await getProposal(t.db, due.id))!.status).toBe('expired')
    expect((await getProposal(t.db, notDue.id))!.status).toBe('proposed')
    expect(await auditActions(t.db, due.id)).toEqual(['proposal.created', 'proposal.expired'])
    expect((await sweepExpired({ db: t.db, clock: () => at })).expired.map((p) => p.id)).not.toContain(due.id)
  })

  it('proposals made under another policy cannot be approved and are superseded by a new proposal', async () => {
    const p = await assistantProposal(restart('checkout-api-pol'))
    const otherPolicy = { ...depsFor(t.db), reference: { catalog: reference.catalog, policy: { ...reference.policy, sha256: 'f'.repeat(64), version: 8, action: reference.policy.action } } }
    expect(await approve(otherPolicy, { proposalId: p.id, reviewer: SRE })).toMatchObject({ ok: false, code: 'conflict', reason: 'policy_changed' })
    const again = await propose(otherPolicy, { ...restart('checkout-api-pol'), rationale: 'same', assessmentId: p.assessmentId! }, ONCALL)
    expect(again).toMatchObject({ ok: true, created: true, proposal: { policySha256: 'f'.repeat(64), policyVersion: 8 } })
    expect(await getProposal(t.db, p.id)).toMatchObject({ status: 'withdrawn', decidedBy: 'system:approvals' })
  })

  it('params and identity columns are immutable and transitions outside the state machine are refused by the database', async () => {
    const p = await assistantProposal(restart('checkout-api-imm'))
    await expect(t.db.query(`update proposals set params = '{"service":"orders-db"}' where id = $1`, [p.id])).rejects.toThrow(/immutable/)
    await expect(t.db.query(`update proposals set action_id = 'failover_database' where id = $1`, [p.id])).rejects.toThrow(/immutable/)
    await expect(t.db.query(`update proposals set status = 'handed_off' where id = $1`, [p.id])).rejects.toThrow(/not allowed/)
    await expect(t.db.query('delete from proposals where id = $1', [p.id])).rejects.toThrow(/append-only/)
    expect((await getProposal(t.db, p.id))!.params).toEqual(p.params)
  })

  it('leaves a valid audit chain behind', async () => {
    const v = await verifyAudit(t.db)
    expect(v).toMatchObject({ ok: true })
    expect(v.rows).toBeGreaterThan(50)
  })
})
