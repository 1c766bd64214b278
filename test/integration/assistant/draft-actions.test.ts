import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { loadClassifyCases, type ClassifyCase } from '../../../evals/classify.js'
import { getAlert, receiveAlerts } from '../../../src/alerts/receive.js'
import { allowedActions } from '../../../src/assistant/actions.js'
import { assessAlert, telemetryDoc, type AssistantDeps } from '../../../src/assistant/assess.js'
import { guardDraft, packEvidence, unsupportedFacts } from '../../../src/assistant/guard/index.js'
import type { Assessment } from '../../../src/assistant/store.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { validateParams } from '../../../src/policy/policy.js'
import { loadReference } from '../../../src/policy/reference.js'
import { amPayload } from '../../helpers/alerts.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// Regression: the deterministic draft used to name the action id in its rationale ("The policy lists
// restart_workload for…"). The id is not in the evidence, so the facts check (invariant 4) removed every
// deterministic suggestion with `action_removed: rationale not in the evidence`. The rationale now states
// only what the pack holds; the guard is unchanged and still removes an action whose rationale invents
// an identifier or a number.

const embedder = createLocalEmbeddings()
const reference = loadReference({
  catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
  taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
  policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
})

const demoCases = loadClassifyCases(path.join(REPO_ROOT, 'evals/cases/demo-alerts.jsonl'))

const OOM = amPayload({
  name: 'KubePodCrashLooping',
  labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' },
  summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping',
  description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.',
  fingerprint: 'a11ce0001',
})

/** What the policy allows for this assessment, recomputed from the stored pack exactly as the assistant does. */

describe(`deterministic suggested actions survive the guard (${backend})`, () => {
  let t: TestDatabase
  let deps: AssistantDeps
  beforeAll(async () => {
    t = await createTestDatabase()
    await runIngest({ db: t.db, embedder }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 1 << 21 })
    deps = { db: t.db, embedder, reference, llm: null }
  })
  afterAll(async () => t?.cleanup())

  /** What the policy allows for this assessment, recomputed from its alert and stored pack as the assistant does. */
  const candidatesOf = async (a: Assessment) => {
    const alert = await getAlert(t.db, a.alertId!)
    return allowedActions({ classification: a.classification!, alert, catalog: reference.catalog, policy: reference.policy, telemetry: telemetryDoc(a.evidencePack) })
  }

  const assess = async (format: ClassifyCase['format'], payload: unknown) => {
    const r = await receiveAlerts({ db: t.db }, { format, payload })
    if (!r.ok) throw new Error(r.error.message)
    return Promise.all(r.alerts.map((x) => assessAlert(deps, x.alertId)))
  }

  // b01: OOMKilled crash loop on cart-api (restart_workload); b04: expiring TLS certificate on edge-proxy
  // (rotate_credential). Both lost their suggestion to the guard before the fix.
  it.each([
    ['b01', 'restart_workload', { service: 'cart-api', workload: 'cart-api' }, /resource exhaustion.*workload from alert label container/],
    ['b04', 'rotate_credential', { service: 'edge-proxy', credential: 'larkspur-wildcard-tls' }, /credential expiry.*credential from alert label/],
  ] as const)('demo alert %s keeps the policy-recommended %s, cited and grounded, with no action_removed', async (id, actionId, params, wording) => {
    const c = demoCases.find((x) => x.id === id)!
    const [a] = await assess(c.format, c.payload)
    expect(a!.outcome).toBe('assessed')
    expect(a!.interventions.filter((i) => i.type === 'action_removed')).toEqual([])
    const action = a!.draft.actions.find((x) => x.actionId === actionId)
    expect(action, JSON.stringify(a!.interventions)).toBeDefined()
    expect(action!.params).toEqual(params)
    // Its rationale states only what the pack holds, and every citation resolves to the pack.
    expect(unsupportedFacts(action!.rationale, packEvidence(a!.evidencePack).facts)).toEqual([])
    expect(action!.rationale).toMatch(wording)
    const refs = new Set(a!.evidencePack.items.map((i) => i.ref))
    expect(action!.citations.length).toBeGreaterThan(0)
    for (const ref of action!.citations) expect(refs.has(ref)).toBe(true)
  })

  it('the guard still removes the same action when its rationale invents an identifier or a number', async () => {
    const [a] = await assess('alertmanager', OOM)
    const kept = a!.draft.actions.find((x) => x.actionId === 'restart_workload')!
    const candidates = await candidatesOf(a!)
    const run = (rationale: string) =>
      guardDraft({
        draft: { summary: '', causes: [], steps: [], similarIncidents: [], actions: [{ ...kept, rationale }] },
        pack: a!.evidencePack,
        validateAction: (x) => validateParams(reference.policy, x.actionId, x.params, reference.catalog),
        allowedActions: candidates.map((c) => ({ actionId: c.actionId, params: c.params })),
        injection: [],
        confidence: 1,
        minConfidence: 0.5,
        telemetryUnsafe: false,
      })
    // Control: the deterministic rationale passes in the same setting, so the two below fail for their text.
    expect(run(kept.rationale).draft.actions).toHaveLength(1)
    for (const [rationale, fact] of [
      ['Possibly a leak introduced by release v2026.12.9-hotfix; restarting may help.', 'v2026.12.9-hotfix'],
      ['Possibly memory climbing at 870 MiB per hour; restarting may help.', '870 MiB'],
    ] as const) {
      const g = run(rationale)
      expect(g.draft.actions).toEqual([])
      expect(g.interventions).toEqual([{ type: 'action_removed', where: 'actions[0]', detail: expect.stringContaining(fact) }])
    }
  })

  it('on every demo alert, each action the policy allows is suggested unless a recorded rule withholds all actions', async () => {
    let suggested = 0
    for (const c of demoCases) {
      for (const a of await assess(c.format, c.payload)) {
        const where = `${c.id}: ${JSON.stringify(a.interventions)}`
        expect(a.interventions.filter((i) => i.type === 'action_removed'), where).toEqual([])
        const withheld = a.interventions.some((i) => ['actions_withheld', 'low_confidence', 'data_unsafe_refusal'].includes(i.type))
        const expected = withheld ? [] : (await candidatesOf(a)).map((x) => x.actionId)
        expect(a.draft.actions.map((x) => x.actionId).sort(), where).toEqual([...expected].sort())
        suggested += a.draft.actions.length
      }
    }
    // The demo set has alerts for which the policy recommends actions; before the fix this was 0.
    expect(suggested).toBeGreaterThan(5)
  }, 120_000)
})
