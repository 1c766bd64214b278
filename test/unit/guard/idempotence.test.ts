import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { certaintyPhrases, detectInjection, guardDraft, normaliseEvidence, packEvidence, unsupportedFacts, type InjectionFinding } from '../../../src/assistant/guard/index.js'
import { Draft, type Intervention } from '../../../src/assistant/types.js'
import { S01_TEXT, allowedActions, input, pack } from './fixtures.js'

// Random drafts mixing valid and invalid refs, supported and invented facts, certain and hedged
// wording, allowed and disallowed actions. Guarding the result again must change nothing: the draft is
// the same and the only interventions repeated are the flags that describe the inputs.

const FRAGMENTS = [
  'checkout-api returns 5xx at 7.2%.', 'Possibly the deploy v2026.11.3 [E1].', 'p99 is 870 ms.', 'Deploy v2026.12.9 shipped.',
  'The root cause is the deploy.', 'This will definitely help.', 'Check the checkout-api dashboard', '1. Roll back with `kubectl rollout undo deployment/checkout-api`.',
  'Raised the limit to 1536Mi', 'Raised the limit to 2048Mi', 'It was caused by pg-orders-0.', 'Errors rose within 14 minutes!', 'Is it the pool?', 'de\u200bfinitely odd', '[E9] says so.',
]
const sep = fc.constantFrom(' ', '\n', '  ', ' \n ')
const text = fc.array(fc.tuple(fc.constantFrom(...FRAGMENTS), sep), { minLength: 0, maxLength: 4 }).map((parts) => parts.map(([f, s]) => f + s).join(''))
const citations = fc.array(fc.constantFrom('E1', 'E2', 'E3', 'E4', 'E1', 'E2', 'E3', 'E4', 'E9', 'X1', ''), { minLength: 0, maxLength: 3, size: 'medium' })
const cited = fc.record({ text, citations })
const params = fc.constantFrom<Record<string, unknown>>(
  { service: 'checkout-api' }, { service: 'checkout' }, { service: 'payments-gateway' }, {}, { service: 'checkout-api', workload: 'web' }, { service: 'nope' },
)
// Weighted so that a fair share of actions survive every rule and reach the later ones.
const action = fc.record({
  actionId: fc.constantFrom('rollback_deployment', 'rollback_deployment', 'restart_workload', 'failover_database'),
  params: fc.oneof({ arbitrary: fc.constant({ service: 'checkout-api' }), weight: 2 }, { arbitrary: params, weight: 2 }),
  rationale: fc.oneof(fc.constant('The runbook suggests a rollback after v2026.11.3.'), text),
  citations,
})
const similar = fc.record({ incidentId: fc.constantFrom('INC-2025-0142', 'INC-2099-0001'), title: fc.constantFrom('cart-api OOM', 'orders-db outage 2031'), mitigation: text, citations })
const draft = fc.record({
  summary: text,
  causes: fc.array(cited, { maxLength: 4 }),
  steps: fc.array(cited, { maxLength: 4 }),
  similarIncidents: fc.array(similar, { maxLength: 2 }),
  actions: fc.array(action, { maxLength: 4 }),
})
const guardInput = fc.record({
  draft,
  injection: fc.oneof({ arbitrary: fc.constant<InjectionFinding[]>([]), weight: 3 }, { arbitrary: fc.constant(detectInjection([{ where: 'alert', text: S01_TEXT }])), weight: 1 }),
  confidence: fc.noBias(fc.integer({ min: 0, max: 100 })).map((n) => n / 100),
  telemetryUnsafe: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
})

const FLAGS = new Set<Intervention['type']>(['injection_flagged', 'data_unsafe_refusal', 'low_confidence'])
const refs = new Set(pack.items.map((i) => i.ref))
const facts = packEvidence(pack).facts

describe('guardDraft properties', () => {
  it('is idempotent: a guarded draft guards to itself, with only the input flags repeated', () => {
    fc.assert(
      fc.property(guardInput, (over) => {
        const first = guardDraft(input(over))
        const second = guardDraft(input({ ...over, draft: first.draft }))
        expect(second.draft).toEqual(first.draft)
        expect(second.refused).toBe(first.refused)
        expect(second.interventions).toEqual(first.interventions.filter((i) => FLAGS.has(i.type)))
      }),
      { numRuns: 400 },
    )
  })

  it('leaves only cited, supported, hedged statements and allowed actions', () => {
    const allowed = new Set(allowedActions.map((a) => `${a.actionId} ${JSON.stringify(a.params)}`))
    fc.assert(
      fc.property(guardInput, (over) => {
        const { draft: out } = guardDraft(input(over))
        expect(Draft.safeParse(out).success).toBe(true)
        for (const s of [...out.causes, ...out.steps, ...out.similarIncidents, ...out.actions]) {
          expect(s.citations.length).toBeGreaterThan(0)
          for (const c of s.citations) expect(refs.has(c)).toBe(true)
        }
        for (const t of [out.summary, ...out.causes.map((c) => c.text), ...out.steps.map((s) => s.text)]) {
          expect(unsupportedFacts(t, facts)).toEqual([])
          expect(certaintyPhrases(t)).toEqual([])
        }
        for (const a of out.actions) expect(allowed.has(`${a.actionId} ${JSON.stringify(a.params)}`)).toBe(true)
        if (over.injection.length > 0 || over.telemetryUnsafe || over.confidence < 0.5) expect(out.actions).toEqual([])
      }),
      { numRuns: 400 },
    )
  })

  it('normaliseEvidence is a pure pre-computation: same answers as passing raw text', () => {
    const raw = pack.items.map((i) => i.text).join('\n')
    fc.assert(
      fc.property(text, (t) => {
        expect(unsupportedFacts(t, normaliseEvidence(raw))).toEqual(unsupportedFacts(t, raw))
      }),
    )
  })
})
