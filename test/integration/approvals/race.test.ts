import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approve, type ApproveResult } from '../../../src/approvals/approve.js'
import { proposeFromAssessment } from '../../../src/approvals/propose.js'
import { getProposal, type Proposal } from '../../../src/approvals/store.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { openDatabase } from '../../../src/db/index.js'
import type { Database } from '../../../src/db/types.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { count, human, reference, seedAssessment, seedTelemetry } from './fixtures.js'

// Races on a real server under READ COMMITTED, with a pool wide enough that all 50 transactions are open at
// once. PGlite has one session and serialises every transaction, so these would prove nothing there.

describe.runIf(backend === 'postgres')(`concurrent decisions (${backend})`, () => {
  let t: TestDatabase
  let wide: Database
  beforeAll(async () => {
    t = await createTestDatabase()
    if (t.target.kind !== 'postgres') throw new Error('postgres only')
    wide = await openDatabase({ kind: 'postgres', url: t.target.url, poolMax: 60 }, { migrate: false })
    await seedTelemetry(t.db, 'checkout-api', { status: 'ok' })
    await seedTelemetry(t.db, 'orders-db', { status: 'ok', signals: { replication_lag_s: 1 } })
  })
  afterAll(async () => {
    await wide?.close()
    await t?.cleanup()
  })

  async function proposal(actionId: string, params: Record<string, unknown>, service: string): Promise<Proposal> {
    const { assessmentId } = await seedAssessment(t.db, { service, actions: [{ actionId, params }] })
    const r = await proposeFromAssessment({ db: t.db, reference }, { assessmentId })
    if (!r.ok || !r.results[0]!.result.ok) throw new Error('proposal refused')
    return r.results[0]!.result.proposal
  }

  const approveAll = (proposalId: string, n: number, role: (i: number) => string) =>
    Promise.all(Array.from({ length: n }, (_, i) => approve({ db: wide, reference }, { proposalId, reviewer: human(`reviewer-${i}`, role(i)) })))

  const tally = (results: ApproveResult[]) => ({
    transitions: results.filter((r) => r.ok && r.approved).length,
    recorded: results.filter((r) => r.ok).length,
    notProposed: results.filter((r) => !r.ok && r.code === 'conflict' && r.reason === 'not_proposed').length,
  })

  it('50 simultaneous approvals of a 1-approval proposal by 50 allowed humans: one transition, one outbox row', async () => {
    const p = await proposal('restart_workload', { service: 'checkout-api', workload: 'checkout-api' }, 'checkout-api')
    const results = await approveAll(p.id, 50, () => 'sre')
    expect(tally(results)).toEqual({ transitions: 1, recorded: 1, notProposed: 49 })
    expect((await getProposal(t.db, p.id))!.status).toBe('approved')
    expect(await count(t.db, 'select count(*)::int n from approvals where proposal_id = $1', [p.id])).toBe(1)
    expect(await count(t.db, 'select count(*)::int n from handoff_outbox where proposal_id = $1', [p.id])).toBe(1)
    expect(await count(t.db, "select count(*)::int n from audit_log where subject = $1 and action = 'proposal.approved'", [`proposal:${p.id}`])).toBe(1)
    expect(await count(t.db, "select count(*)::int n from audit_log where subject = $1 and action = 'approval.refused'", [`proposal:${p.id}`])).toBe(49)
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })

  it('50 simultaneous approvals of a 2-approval proposal: exactly two approvals recorded, one transition', async () => {
    const p = await proposal('failover_database', { service: 'orders-db' }, 'orders-db')
    const results = await approveAll(p.id, 50, (i) => (i % 2 ? 'dba' : 'incident-commander'))
    expect(tally(results)).toEqual({ transitions: 1, recorded: 2, notProposed: 48 })
    expect(await count(t.db, 'select count(*)::int n from approvals where proposal_id = $1', [p.id])).toBe(2)
    expect(await count(t.db, 'select count(*)::int n from handoff_outbox where proposal_id = $1', [p.id])).toBe(1)
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })

  it('the same suggestion proposed 30 times at once opens exactly one proposal', async () => {
    const { assessmentId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [{ actionId: 'restart_workload', params: { service: 'checkout-api', workload: 'checkout-api-race' } }] })
    const results = await Promise.all(Array.from({ length: 30 }, () => proposeFromAssessment({ db: wide, reference }, { assessmentId })))
    const ids = new Set(results.map((r) => (r.ok && r.results[0]!.result.ok ? r.results[0]!.result.proposal.id : 'refused')))
    expect([...ids]).toHaveLength(1)
    expect(ids.has('refused')).toBe(false)
    expect(results.filter((r) => r.ok && r.results[0]!.result.ok && r.results[0]!.result.created)).toHaveLength(1)
    expect(await count(t.db, 'select count(*)::int n from proposals where assessment_id = $1', [assessmentId])).toBe(1)
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })
})

// Keeps the file from being empty on PGlite, and says why.
describe.runIf(backend === 'pglite')('concurrent decisions (pglite)', () => {
  it.skip('races run only on real Postgres: PGlite serialises every transaction in its single session', () => {})
})
