import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { proposeFromAssessment } from '../../../src/approvals/propose.js'
import type { Proposal } from '../../../src/approvals/store.js'
import type { CliIo } from '../../../src/cli/audit.js'
import { runProposalsDecide, runProposalsList, runProposalsShow, runProposalsSweep } from '../../../src/cli/proposals.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { depsFor, seedAssessment, seedTelemetry } from './fixtures.js'

const sink = () => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { out: (s) => void out.push(s), err: (s) => void err.push(s) }
  return { io, text: () => out.join(''), errors: () => err.join('') }
}

describe(`warden proposals (${backend})`, () => {
  let t: TestDatabase
  let n = 0
  beforeAll(async () => {
    t = await createTestDatabase()
    await seedTelemetry(t.db, 'checkout-api')
  })
  afterAll(async () => t?.cleanup())

  async function proposal(): Promise<Proposal> {
    const { assessmentId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [{ actionId: 'restart_workload', params: { service: 'checkout-api', workload: `checkout-api-c${++n}` } }] })
    const r = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    if (!r.ok || !r.results[0]!.result.ok) throw new Error('refused')
    return r.results[0]!.result.proposal
  }

  it('lists and shows proposals', async () => {
    const p = await proposal()
    const list = sink()
    expect(await runProposalsList(t.db, {}, list.io)).toBe(0)
    expect(list.text()).toContain(`${p.id}  proposed   restart_workload`)
    expect(list.text()).toContain('approvals 0/1')
    const json = sink()
    expect(await runProposalsList(t.db, { status: 'proposed', json: true }, json.io)).toBe(0)
    expect((JSON.parse(json.text()) as Proposal[]).map((x) => x.id)).toContain(p.id)
    const bad = sink()
    expect(await runProposalsList(t.db, { status: 'maybe' }, bad.io)).toBe(2)
    const show = sink()
    expect(await runProposalsShow(t.db, p.id, {}, show.io)).toBe(0)
    expect(show.text()).toMatch(/precondition ok {3}telemetry_safe/)
    expect(show.text()).toMatch(/assistant proposal\.created/)
    const missing = sink()
    expect(await runProposalsShow(t.db, 'pr_missing', {}, missing.io)).toBe(1)
  })

  it('approves, rejects and withdraws as the configured identity; refusals exit 1 with the reason', async () => {
    const p = await proposal()
    const none = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'approve', p.id, {}, null, none.io)).toBe(2)
    expect(none.errors()).toMatch(/WARDEN_CLI_IDENTITY/)
    const wrong = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'approve', p.id, {}, { id: 'olivia', roles: ['oncall'] }, wrong.io)).toBe(1)
    expect(wrong.errors()).toMatch(/approve refused \(forbidden: role_not_allowed\)/)
    const bot = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'approve', p.id, {}, { id: 'assistant', roles: ['sre'] }, bot.io)).toBe(1)
    expect(bot.errors()).toMatch(/forbidden: assistant_identity/)
    const ok = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'approve', p.id, { reason: 'runbook step 2' }, { id: 'sam', roles: ['sre'] }, ok.io)).toBe(0)
    expect(ok.text()).toBe(`${p.id}: approved (approvals 1/1; hand-off queued)\n`)
    const show = sink()
    await runProposalsShow(t.db, p.id, {}, show.io)
    expect(show.text()).toMatch(/approved by sam \(sre\) .*: runbook step 2/)
    expect(show.text()).toMatch(/hand-off pending · attempts 0/)

    const q = await proposal()
    const rej = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'reject', q.id, { reason: 'noise', json: true }, { id: 'lee', roles: ['oncall-lead'] }, rej.io)).toBe(0)
    expect(JSON.parse(rej.text())).toMatchObject({ ok: true, proposal: { status: 'rejected' } })
    const w = await proposal()
    const wd = sink()
    expect(await runProposalsDecide(depsFor(t.db), 'withdraw', w.id, {}, { id: 'lee', roles: ['oncall-lead'] }, wd.io)).toBe(0)
    expect(wd.text()).toBe(`${w.id}: withdrawn\n`)
  })

  it('sweeps overdue proposals', async () => {
    const s = sink()
    expect(await runProposalsSweep(t.db, {}, s.io)).toBe(0)
    expect(s.text()).toMatch(/^expired 0 proposal/)
  })
})
