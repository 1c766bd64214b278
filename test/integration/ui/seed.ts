import { receiveAlerts } from '../../../src/alerts/receive.js'
import { assessAlert } from '../../../src/assistant/assess.js'
import type { Assessment } from '../../../src/assistant/store.js'
import { propose, type Identity, type Proposal } from '../../../src/approvals/index.js'
import { amPayload } from '../../helpers/alerts.js'
import type { HttpFixture } from '../../helpers/http.js'

// A real crash-loop alert on the demo corpus, its real deterministic assessment, and a restart_workload
// proposal by an on-call human citing that assessment's telemetry and runbook evidence (its preconditions
// pass: cart-api is in the catalog and its demo telemetry is safe).

export async function seedCrashLoopProposal(f: HttpFixture, requester: Identity, opts: { fingerprint: string; workload?: string }): Promise<{ alertId: string; assessment: Assessment; proposal: Proposal }> {
  const r = await receiveAlerts({ db: f.t.db }, {
    format: 'alertmanager',
    payload: amPayload({ name: 'KubePodCrashLooping', fingerprint: opts.fingerprint, labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' }, summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping', description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.' }),
  })
  if (!r.ok) throw new Error(r.error.message)
  const alertId = r.alerts[0]!.alertId
  const assessment = await assessAlert(f.deps, alertId)
  if (assessment.outcome !== 'assessed') throw new Error(`expected an assessed outcome, got ${assessment.outcome}`)
  const telemetryRef = assessment.evidencePack.telemetry!.ref!
  const runbookRef = assessment.evidencePack.items.find((i) => i.sourceKind === 'runbook')!.ref
  const res = await propose(
    { db: f.t.db, reference: f.deps.reference },
    { actionId: 'restart_workload', params: { service: 'cart-api', workload: opts.workload ?? 'cart-api' }, rationale: 'OOMKilled crash loop; the runbook says restart after raising the limit', citations: [telemetryRef, runbookRef], assessmentId: assessment.id },
    requester,
  )
  if (!res.ok) throw new Error(`${res.reason}: ${res.message}`)
  return { alertId, assessment, proposal: res.proposal }
}
