import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approve } from '../../../src/approvals/approve.js'
import { propose, proposeFromAssessment } from '../../../src/approvals/propose.js'
import { getProposal, type Proposal } from '../../../src/approvals/store.js'
import { REFUSAL_HTTP_STATUS, type Identity } from '../../../src/approvals/types.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { ASSISTANT, DBA, IC, count, depsFor, human, seedAssessment, seedTelemetry } from './fixtures.js'

// The approval cases of the shared safety set, expectations read from the file. HTTP statuses are the
// refusal code's status (REFUSAL_HTTP_STATUS, the same table the HTTP layer uses). s12 runs on both
// backends; only on real Postgres are the 50 transactions truly concurrent (see race.test.ts).

interface Case { id: string; scenario: string; parallel?: number; expect: Record<string, unknown> }
const cases = new Map(
  fs.readFileSync(path.join(REPO_ROOT, '../shared/evals/safety/safety-dev.jsonl'), 'utf8')
    .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Case & { kind: string })
    .filter((c) => c.kind === 'approval').map((c) => [c.id, c]),
)
const get = (id: string): Case => {
  const c = cases.get(id)
  if (!c) throw new Error(`safety case ${id} not found`)
  return c
}
const status = (r: { ok: boolean; code?: string }) => (r.ok ? 200 : REFUSAL_HTTP_STATUS[r.code as keyof typeof REFUSAL_HTTP_STATUS])

describe(`safety cases: approvals (${backend})`, () => {
  let t: TestDatabase
  let n = 0
  beforeAll(async () => {
    t = await createTestDatabase()
    await seedTelemetry(t.db, 'checkout-api')
    await seedTelemetry(t.db, 'orders-db', { signals: { replication_lag_s: 0.5 } })
  })
  afterAll(async () => t?.cleanup())

  async function assistantProposal(actionId = 'restart_workload', params: Record<string, unknown> = { service: 'checkout-api', workload: `checkout-api-s${++n}` }, service = 'checkout-api', clock?: () => Date): Promise<Proposal> {
    const { assessmentId } = await seedAssessment(t.db, { service, actions: [{ actionId, params }] })
    const r = await proposeFromAssessment(depsFor(t.db, clock), { assessmentId })
    if (!r.ok || !r.results[0]!.result.ok) throw new Error('proposal refused')
    return r.results[0]!.result.proposal
  }

  it('covers every approval case in the shared set', () => {
    expect([...cases.keys()].sort()).toEqual(['s10', 's11', 's12', 's14', 's15'])
  })

  it('s10 requester_self_approves', async () => {
    const c = get('s10')
    expect(c.scenario).toBe('requester_self_approves')
    const requester: Identity = human('rita', 'oncall', 'sre', 'oncall-lead')
    const p = await propose(depsFor(t.db), { actionId: 'restart_workload', params: { service: 'checkout-api', workload: 'checkout-api' }, rationale: 'OOMKilled pods' }, requester)
    if (!p.ok) throw new Error(p.message)
    const r = await approve(depsFor(t.db), { proposalId: p.proposal.id, reviewer: requester })
    expect(status(r)).toBe(c.expect.http_status)
    expect((await getProposal(t.db, p.proposal.id))!.status).toBe(c.expect.proposal_status)
  })

  it('s11 assistant_identity_approves', async () => {
    const c = get('s11')
    expect(c.scenario).toBe('assistant_identity_approves')
    const p = await assistantProposal()
    for (const reviewer of [ASSISTANT, { ...ASSISTANT, kind: 'human' as const }]) {
      const r = await approve(depsFor(t.db), { proposalId: p.id, reviewer })
      expect(status(r)).toBe(c.expect.http_status)
    }
    expect((await getProposal(t.db, p.id))!.status).toBe(c.expect.proposal_status)
  })

  it('s12 concurrent_approvals', async () => {
    const c = get('s12')
    expect(c.scenario).toBe('concurrent_approvals')
    const p = await assistantProposal()
    const results = await Promise.all(Array.from({ length: c.parallel ?? 50 }, (_, i) => approve(depsFor(t.db), { proposalId: p.id, reviewer: human(`reviewer-${i}`, 'sre') })))
    expect(results.filter((r) => r.ok && r.approved).length).toBe(c.expect.transitions_to_approved)
    expect(await count(t.db, "select count(*)::int n from audit_log where subject = $1 and action = 'proposal.approved'", [`proposal:${p.id}`])).toBe(c.expect.transitions_to_approved)
    expect(await count(t.db, 'select count(*)::int n from handoff_outbox where proposal_id = $1', [p.id])).toBe(1)
    expect((await verifyAudit(t.db)).ok).toBe(c.expect.audit_chain_valid)
  })

  it('s14 expired_proposal_approved', async () => {
    const c = get('s14')
    expect(c.scenario).toBe('expired_proposal_approved')
    const p = await assistantProposal()
    const r = await approve(depsFor(t.db, () => new Date(Date.parse(p.expiresAt) + 1)), { proposalId: p.id, reviewer: human('sam', 'sre') })
    expect(status(r)).toBe(c.expect.http_status)
    expect((await getProposal(t.db, p.id))!.status).toBe(c.expect.proposal_status)
  })

  it('s15 high_risk_needs_two_distinct_approvers', async () => {
    const c = get('s15')
    expect(c.scenario).toBe('high_risk_needs_two_distinct_approvers')
    const p = await assistantProposal('failover_database', { service: 'orders-db' }, 'orders-db')
    expect(p.risk).toBe('high')
    await approve(depsFor(t.db), { proposalId: p.id, reviewer: DBA })
    expect((await getProposal(t.db, p.id))!.status).toBe(c.expect.after_one_approval)
    expect(status(await approve(depsFor(t.db), { proposalId: p.id, reviewer: DBA }))).toBe(409) // not distinct
    expect((await getProposal(t.db, p.id))!.status).toBe(c.expect.after_one_approval)
    await approve(depsFor(t.db), { proposalId: p.id, reviewer: IC })
    expect((await getProposal(t.db, p.id))!.status).toBe(c.expect.after_two_distinct)
  })
})
