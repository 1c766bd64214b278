import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertIntakeOutput } from '../../../src/http/routes/alerts.js'
import { AuditListOutput, AuditVerifyOutput } from '../../../src/http/routes/audit.js'
import { HandoffClaimOutput, HandoffCompleteOutput } from '../../../src/http/routes/handoffs.js'
import { ErrorOutput } from '../../../src/http/openapi.js'
import { ApproveOutput, DecisionOutput, ProposalCreateOutput, ProposalDetailOutput, ProposalListOutput } from '../../../src/http/routes/proposals.js'
import { TokenCreateOutput, TokenListOutput, TokenRevokeOutput } from '../../../src/http/routes/tokens.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// The approval queue end to end through HTTP on the demo knowledge base: a real alert assessed with
// `?wait=true`, a human proposal citing its evidence pack, the decisions (and their refusals, with the reason
// clients branch on), the executor's claim, and an audit chain that verifies. Identities come only from the
// tokens; bodies that try to name one are refused.

const crashLoop = amPayload({
  name: 'KubePodCrashLooping',
  labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' },
  summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping',
  description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.',
})

interface EvidenceItem { ref: string; kind: string; sourceKind?: string | null }

describe(`proposals over HTTP (${backend})`, () => {
  let f: HttpFixture
  let assessmentId: string
  let refs: { telemetry: string; runbook: string }

  const json = async (res: Response) => (await res.json()) as unknown
  const errorOf = async (res: Response) => ErrorOutput.parse(await res.json()).error
  const reasonOf = async (res: Response) => ((await errorOf(res)).details as { reason?: string } | undefined)?.reason
  const count = async (table: string) => (await f.t.db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n

  beforeAll(async () => {
    f = await createHttpFixture({ ingestDemo: true })
    const res = await f.call('POST', '/v1/alerts/alertmanager?wait=true', { as: 'webhook', body: crashLoop })
    expect(res.status).toBe(202)
    const intake = AlertIntakeOutput.parse(await res.json())
    assessmentId = intake.alerts[0]!.assessmentId!
    expect(assessmentId).toBeTruthy()
    const a = (await (await f.call('GET', `/v1/assessments/${assessmentId}`, { as: 'oncall' })).json()) as { outcome: string; evidencePack: { items: EvidenceItem[]; telemetry: { ref: string } | null } }
    expect(a.outcome).toBe('assessed')
    refs = { telemetry: a.evidencePack.telemetry!.ref, runbook: a.evidencePack.items.find((i) => i.sourceKind === 'runbook')!.ref }
  })
  afterAll(async () => f?.cleanup())

  const restart = (workload: string, extra: Record<string, unknown> = {}) => ({
    actionId: 'restart_workload', params: { service: 'cart', workload }, rationale: 'OOMKilled crash loop; the runbook restarts the workload after raising the memory limit', ...extra,
  })

  it('runs a proposal from alert to hand-off: propose, self-approval refused, approve, claim, complete, audit verifies', async () => {
    // A reviewer is on call too, so may propose; the requester is the token's identity.
    const created = await f.call('POST', '/v1/proposals', { as: 'reviewer', body: restart('cart-api', { citations: [refs.telemetry, refs.runbook], assessmentId }) })
    expect(created.status).toBe(201)
    const { proposal } = ProposalCreateOutput.parse(await created.json())
    expect(proposal).toMatchObject({ status: 'proposed', requestedBy: 'sam', requesterKind: 'human', params: { service: 'cart-api', workload: 'cart-api' }, citations: [refs.telemetry, refs.runbook], assessmentId })
    // The same proposal again is the open one, not a second.
    const again = await f.call('POST', '/v1/proposals', { as: 'reviewer', body: restart('cart-api', { citations: [refs.telemetry], assessmentId }) })
    expect(again.status).toBe(200)
    expect(ProposalCreateOutput.parse(await again.json())).toMatchObject({ created: false, proposal: { id: proposal.id } })

    const self = await f.call('POST', `/v1/proposals/${proposal.id}/approve`, { as: 'reviewer', body: {} })
    expect(self.status).toBe(403)
    expect(await reasonOf(self)).toBe('self_approval')
    const oncall = await f.call('POST', `/v1/proposals/${proposal.id}/approve`, { as: 'oncall', body: {} })
    expect(oncall.status).toBe(403)

    const before = ProposalDetailOutput.parse(await json(await f.call('GET', `/v1/proposals/${proposal.id}`, { as: 'oncall' })))
    expect(before).toMatchObject({ proposal: { status: 'proposed' }, approvals: [], handoff: null, preconditionsNow: { policyInForce: true } })
    expect(before.preconditionsNow.results!.map((r) => [r.name, r.ok])).toEqual([['service_known', true], ['telemetry_safe', true]])

    const approved = await f.call('POST', `/v1/proposals/${proposal.id}/approve`, { as: 'reviewer2', body: { reason: 'runbook step 2' } })
    expect(approved.status).toBe(200)
    expect(ApproveOutput.parse(await approved.json())).toMatchObject({ approved: true, approvals: 1, required: 1, proposal: { status: 'approved', decidedBy: 'sasha' }, handoff: { status: 'pending' } })
    const twice = await f.call('POST', `/v1/proposals/${proposal.id}/approve`, { as: 'lead', body: {} })
    expect(twice.status).toBe(409)
    expect(await reasonOf(twice)).toBe('not_proposed')

    const detail = ProposalDetailOutput.parse(await json(await f.call('GET', `/v1/proposals/${proposal.id}`, { as: 'oncall' })))
    expect(detail.approvals).toMatchObject([{ reviewerId: 'sasha', role: 'sre', reason: 'runbook step 2' }])
    expect(detail.handoff).toMatchObject({ status: 'pending', attempts: 0 })
    const list = ProposalListOutput.parse(await json(await f.call('GET', '/v1/proposals?status=approved&limit=5', { as: 'oncall' })))
    expect(list.proposals.map((p) => p.id)).toEqual([proposal.id])

    // The executor takes it over: a bare POST claims, the payload says who approved it under which policy.
    const claim = await f.call('POST', '/v1/handoffs/claim', { as: 'executor' })
    expect(claim.status).toBe(200)
    const { claimed } = HandoffClaimOutput.parse(await claim.json())
    expect(claimed).toHaveLength(1)
    expect(claimed[0]).toMatchObject({ proposalId: proposal.id, attempts: 1, payload: { action_id: 'restart_workload', requested_by: 'sam', approved_by: [{ reviewer_id: 'sasha', role: 'sre' }], params: { service: 'cart-api', workload: 'cart-api' } } })
    expect(HandoffClaimOutput.parse(await json(await f.call('POST', '/v1/handoffs/claim', { as: 'executor', body: { limit: 5 } }))).claimed).toEqual([])
    const done = await f.call('POST', `/v1/handoffs/${proposal.id}/complete`, { as: 'executor' })
    expect(done.status).toBe(200)
    expect(HandoffCompleteOutput.parse(await done.json())).toMatchObject({ proposal: { status: 'handed_off', handedOffTo: 'executor:executor-1' }, handoff: { status: 'completed' } })
    const doneTwice = await f.call('POST', `/v1/handoffs/${proposal.id}/complete`, { as: 'executor' })
    expect(doneTwice.status).toBe(409)
    expect(await reasonOf(doneTwice)).toBe('not_claimed')

    const audit = AuditListOutput.parse(await json(await f.call('GET', `/v1/audit?subject=proposal:${proposal.id}&order=asc`, { as: 'reviewer' })))
    expect(audit.rows.map((r) => `${r.actor} ${r.action}`)).toEqual([
      'sam proposal.created', 'sam approval.refused', 'sasha approval.recorded', 'sasha proposal.approved', 'sasha handoff.queued',
      'lee approval.refused', 'executor-1 handoff.claimed', 'executor-1 handoff.completed',
    ])
    expect(audit.rows[1]!.data).toMatchObject({ reason: 'self_approval' })
    const verify = await f.call('GET', '/v1/audit/verify', { as: 'reviewer' })
    expect(AuditVerifyOutput.parse(await verify.json())).toMatchObject({ ok: true, rows: expect.any(Number) })
    expect((await f.call('GET', '/v1/audit/verify', { as: 'oncall' })).status).toBe(403)
  })

  it('lets only an approver role decide and only the requester (or a lead) withdraw', async () => {
    const a = ProposalCreateOutput.parse(await json(await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api-canary') }))).proposal
    expect(a).toMatchObject({ requestedBy: 'olivia', status: 'proposed', assessmentId: null })
    const dba = await f.call('POST', `/v1/proposals/${a.id}/approve`, { as: 'dba', body: {} })
    expect(dba.status).toBe(403)
    expect((await errorOf(dba)).details).toMatchObject({ reason: 'role_not_allowed', details: { approverRoles: ['oncall-lead', 'sre'] } })
    const other = await f.call('POST', `/v1/proposals/${a.id}/withdraw`, { as: 'oncall2', body: {} })
    expect(other.status).toBe(403)
    expect(await reasonOf(other)).toBe('not_requester')
    const w = await f.call('POST', `/v1/proposals/${a.id}/withdraw`, { as: 'oncall', body: { reason: 'the pod recovered' } })
    expect(DecisionOutput.parse(await w.json())).toMatchObject({ proposal: { status: 'withdrawn', decidedBy: 'olivia', decisionReason: 'the pod recovered' } })

    const b = ProposalCreateOutput.parse(await json(await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api-batch') }))).proposal
    const r = await f.call('POST', `/v1/proposals/${b.id}/reject`, { as: 'lead', body: { reason: 'not during the sale' } })
    expect(DecisionOutput.parse(await r.json())).toMatchObject({ proposal: { status: 'rejected', decidedBy: 'lee' } })
    const late = await f.call('POST', `/v1/proposals/${b.id}/withdraw`, { as: 'oncall', body: {} })
    expect(late.status).toBe(409)
    expect(await reasonOf(late)).toBe('not_proposed')
    // Nothing was approved, so nothing was handed off.
    expect(HandoffClaimOutput.parse(await json(await f.call('POST', '/v1/handoffs/claim', { as: 'executor' }))).claimed).toEqual([])
  })

  it('answers bad input with 400/422/404 and stores nothing', async () => {
    const proposals = await count('proposals')
    const audit = await count('audit_log')
    const malformed = await f.call('POST', '/v1/proposals', { as: 'oncall', raw: '{"actionId": "restart_workload",', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
    expect((await errorOf(malformed)).code).toBe('invalid_json')

    const wrongTypes = await f.call('POST', '/v1/proposals', { as: 'oncall', body: { actionId: 5, params: [], rationale: '' } })
    expect(wrongTypes.status).toBe(422)
    const e = await errorOf(wrongTypes)
    expect(e.code).toBe('validation_failed')
    expect((e.details as Array<{ path: string }>).map((d) => d.path).sort()).toEqual(['actionId', 'params', 'rationale'])
    expect(e.message).toMatch(/actionId, params, rationale|actionId.*params.*rationale/)

    const unknownField = await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api-x', { priority: 'high' }) })
    expect(unknownField.status).toBe(422)
    expect(JSON.stringify((await errorOf(unknownField)).details)).toContain('priority')

    const unknownAction = await f.call('POST', '/v1/proposals', { as: 'oncall', body: { actionId: 'drop_database', params: { service: 'cart' }, rationale: 'x' } })
    expect(unknownAction.status).toBe(422)
    expect(await reasonOf(unknownAction)).toBe('unknown_action')
    const badParams = await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('Not A Workload!') })
    expect(badParams.status).toBe(422)
    expect(await reasonOf(badParams)).toBe('invalid_params')
    const invented = await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api', { citations: ['E999'], assessmentId }) })
    expect(invented.status).toBe(422)
    expect(await reasonOf(invented)).toBe('unresolved_citations')
    const noAssessment = await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api', { assessmentId: 'as_missing' }) })
    expect(noAssessment.status).toBe(404)

    const missing = await f.call('GET', '/v1/proposals/pr_missing', { as: 'oncall' })
    expect(missing.status).toBe(404)
    const approveMissing = await f.call('POST', '/v1/proposals/pr_missing/approve', { as: 'reviewer', body: {} })
    expect(approveMissing.status).toBe(404)
    expect(await reasonOf(approveMissing)).toBe('proposal_not_found')
    expect((await f.call('GET', '/v1/proposals?status=maybe', { as: 'oncall' })).status).toBe(422)
    expect((await f.call('GET', '/v1/proposals?limit=0', { as: 'oncall' })).status).toBe(422)
    expect((await f.call('GET', '/v1/audit?since=yesterday', { as: 'reviewer' })).status).toBe(422)
    expect((await f.call('GET', '/v1/audit?actor=sam', { as: 'reviewer' })).status).toBe(422)

    expect(await count('proposals')).toBe(proposals)
    expect(await count('audit_log')).toBe(audit)
  })

  it('refuses a body that names who is acting: requester, reviewer or executor come only from the token', async () => {
    const p = ProposalCreateOutput.parse(await json(await f.call('POST', '/v1/proposals', { as: 'oncall', body: restart('cart-api-named') }))).proposal
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/v1/proposals', restart('cart-api-named2', { requestedBy: 'sasha' })],
      ['POST', '/v1/proposals', restart('cart-api-named3', { requester: { id: 'sasha', roles: ['sre'], kind: 'human' } })],
      ['POST', `/v1/proposals/${p.id}/approve`, { reviewer: { id: 'sasha', roles: ['sre'] } }],
      ['POST', `/v1/proposals/${p.id}/approve`, { reviewerId: 'sasha' }],
      ['POST', `/v1/proposals/${p.id}/reject`, { reviewer: 'sasha' }],
      ['POST', `/v1/proposals/${p.id}/withdraw`, { actor: 'olivia' }],
      ['POST', `/v1/handoffs/${p.id}/complete`, { executorId: 'executor-1' }],
    ]
    for (const [method, url, body] of attempts) {
      const as = url.includes('/approve') || url.includes('/reject') ? 'lead' : url.includes('/handoffs') ? 'executor' : 'oncall'
      const res = await f.call(method, url, { as, body })
      expect(res.status, `${url} ${JSON.stringify(body)}`).toBe(422)
    }
    const after = ProposalDetailOutput.parse(await json(await f.call('GET', `/v1/proposals/${p.id}`, { as: 'oncall' })))
    expect(after).toMatchObject({ proposal: { status: 'proposed' }, approvals: [] })
    expect((await f.t.db.query("select count(*)::int as n from proposals where params->>'workload' like 'cart-api-named_'")).rows[0]).toEqual({ n: 0 })
  })

  it('manages tokens as admin: the secret once, never the hash, no token for the assistant, revocation at once', async () => {
    const assistant = await f.call('POST', '/v1/tokens', { as: 'admin', body: { name: 'bot', identity: 'assistant', roles: ['reviewer', 'sre'] } })
    expect(assistant.status).toBe(422)
    expect((await f.t.db.query("select count(*)::int as n from api_tokens where identity = 'assistant'")).rows[0]).toEqual({ n: 0 })
    expect((await f.call('POST', '/v1/tokens', { as: 'admin', body: { name: 'x', identity: 'mallory', roles: ['root'] } })).status).toBe(422)
    expect((await f.call('POST', '/v1/tokens', { as: 'reviewer', body: { name: 'x', identity: 'mallory', roles: ['admin'] } })).status).toBe(403)

    const created = await f.call('POST', '/v1/tokens', { as: 'admin', body: { name: 'carol laptop', identity: 'carol', roles: ['reviewer', 'dba'] } })
    expect(created.status).toBe(201)
    const { token, tokenInfo } = TokenCreateOutput.parse(await created.json())
    expect(tokenInfo).toMatchObject({ identity: 'carol', roles: ['dba', 'reviewer'], createdBy: 'ada', revokedAt: null })
    const listed = await (await f.call('GET', '/v1/tokens', { as: 'admin' })).text()
    expect(TokenListOutput.parse(JSON.parse(listed)).tokens.map((t) => t.id)).toContain(tokenInfo.id)
    const { rows } = await f.t.db.query<{ token_hash: string }>('select token_hash from api_tokens where id = $1', [tokenInfo.id])
    expect(listed).not.toContain(rows[0]!.token_hash)
    expect(listed).not.toContain(token)

    const use = (t: string) => f.app.request('/v1/audit/verify', { headers: { authorization: `Bearer ${t}` } })
    expect((await use(token)).status).toBe(200)
    const revoked = await f.call('DELETE', `/v1/tokens/${tokenInfo.id}`, { as: 'admin' })
    expect(TokenRevokeOutput.parse(await revoked.json()).tokenInfo.revokedAt).not.toBeNull()
    expect((await use(token)).status).toBe(401)
    const again = await f.call('DELETE', `/v1/tokens/${tokenInfo.id}`, { as: 'admin' })
    expect(again.status).toBe(409)
    expect(await reasonOf(again)).toBe('already_revoked')
    expect((await f.call('DELETE', '/v1/tokens/tk_missing', { as: 'admin' })).status).toBe(404)
    const trail = AuditListOutput.parse(await json(await f.call('GET', `/v1/audit?subject=token:${tokenInfo.id}&order=asc`, { as: 'admin' })))
    expect(trail.rows.map((r) => `${r.actor} ${r.action}`)).toEqual(['ada token.created', 'ada token.revoked'])
  })
})
