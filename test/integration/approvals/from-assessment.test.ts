import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { assessAlert } from '../../../src/assistant/assess.js'
import { approve } from '../../../src/approvals/approve.js'
import { propose, proposeFromAssessment } from '../../../src/approvals/propose.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { amPayload } from '../../helpers/alerts.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { ONCALL, SRE, auditActions, demoReference } from './fixtures.js'

// End to end on the demo knowledge base: a real alert, a real (deterministic) assessment, its guarded
// suggestions opened as proposals by the assistant, an on-call proposal citing the real evidence pack,
// approved by a human — and nothing executed.

describe(`proposals from a real assessment (${backend})`, () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase()
    await runIngest({ db: t.db, embedder: createLocalEmbeddings() }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 1 << 21 })
  })
  afterAll(async () => t?.cleanup())

  it('opens a proposal per suggested action and lets on-call propose against the real evidence pack', async () => {
    const r = await receiveAlerts({ db: t.db }, {
      format: 'alertmanager',
      payload: amPayload({ name: 'KubePodCrashLooping', labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' }, summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping', description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.' }),
    })
    if (!r.ok) throw new Error(r.error.message)
    const alertId = r.alerts[0]!.alertId
    const assessment = await assessAlert({ db: t.db, embedder: createLocalEmbeddings(), reference: demoReference, llm: null }, alertId)
    expect(assessment.outcome).toBe('assessed')
    const deps = { db: t.db, reference: demoReference }

    // Whatever the guard let through becomes one proposal each, requested by the assistant.
    const opened = await proposeFromAssessment(deps, { assessmentId: assessment.id })
    if (!opened.ok) throw new Error(opened.message)
    expect(opened.results.map((x) => x.actionId)).toEqual(assessment.draft.actions.map((a) => a.actionId))
    for (const { result } of opened.results) expect(result).toMatchObject({ ok: true, proposal: { requestedBy: 'assistant', assessmentId: assessment.id, alertId } })

    // On-call proposes the restart against the same assessment, citing its telemetry and a runbook passage.
    const telemetryRef = assessment.evidencePack.telemetry!.ref!
    const runbookRef = assessment.evidencePack.items.find((i) => i.sourceKind === 'runbook')!.ref
    const restart = await propose(deps, { actionId: 'restart_workload', params: { service: 'cart', workload: 'cart-api' }, rationale: 'OOMKilled crash loop; runbook says restart after raising the limit', citations: [telemetryRef, runbookRef], assessmentId: assessment.id }, ONCALL)
    expect(restart).toMatchObject({ ok: true, proposal: { params: { service: 'cart-api', workload: 'cart-api' }, assessmentId: assessment.id, alertId, alertGroup: 'alert:alertmanager:f00dfeed01', policySha256: demoReference.policy.sha256 } })
    if (!restart.ok) return
    expect(restart.proposal.preconditionResults.every((p) => p.ok)).toBe(true)
    expect(await propose(deps, { actionId: 'restart_workload', params: { service: 'cart-api', workload: 'cart-api' }, rationale: 'x', citations: ['E999'], assessmentId: assessment.id }, ONCALL)).toMatchObject({ ok: false, reason: 'unresolved_citations' })

    // The only deploy the evidence shows is ~22h before the alert: a rollback has no recent deploy to stand on.
    const rollback = await propose(deps, { actionId: 'rollback_deployment', params: { service: 'cart-api', to_revision: 'v2026.11.18-1' }, rationale: 'roll back', assessmentId: assessment.id }, ONCALL)
    expect(rollback).toMatchObject({ ok: false, code: 'conflict', reason: 'precondition_failed' })
    expect(rollback.ok ? '' : rollback.message).toMatch(/recent_deploy_in_evidence/)

    expect(await approve(deps, { proposalId: restart.proposal.id, reviewer: SRE })).toMatchObject({ ok: true, approved: true })
    const actions = await auditActions(t.db, restart.proposal.id)
    expect(actions).toEqual(['proposal.created', 'approval.recorded', 'proposal.approved', 'handoff.queued'])
    expect(actions.some((a) => /execut/.test(a))).toBe(false)
  })
})
