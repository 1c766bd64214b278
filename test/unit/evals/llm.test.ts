import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { LlmClient } from '../../../src/assistant/llm.js'
import type { Assessment } from '../../../src/assistant/store.js'
import type { EvidencePack } from '../../../src/assistant/types.js'
import { checkAnswer, checkDraft, groundingMetrics, type OutputCheck } from '../../../evals/suite/grounding.js'
import { compareLlm, FAKE_REPLY_KINDS, instrument, passStats, percentile, scriptedReply } from '../../../evals/suite/llm.js'

const pack: EvidencePack = {
  items: [
    { ref: 'E1', kind: 'alert', trusted: false, title: 'Alert: KubePodCrashLooping', text: 'cart-api restarted 9 times; limit 1536Mi', contentHash: 'h1', chunkId: null, sourceUri: null, sourceKind: null, headingPath: [], meta: {} },
    { ref: 'E2', kind: 'chunk', trusted: false, title: 'cart-api OOM', text: 'p99 above 250 lines correlates with OOM', contentHash: 'h2', chunkId: 7, sourceUri: 'file://runbooks/cart.md', sourceKind: 'runbook', headingPath: ['cart-api OOM'], meta: {} },
  ],
  telemetry: null,
  catalogSlice: null,
  retrievalQuery: 'q',
}

const provenance = (over: Partial<Assessment['provenance']> = {}): Assessment['provenance'] => ({ mode: 'deterministic', model: 'warden-rules-v1', promptId: 'p', promptVersion: '1', promptSha256: 's', fallbackReason: null, latencyMs: 12, tokens: null, ...over })

function assessment(draft: Assessment['draft'], over: Partial<Assessment> = {}): Assessment {
  return { id: 'as_1', subject: 'alert', alertId: 'al_1', question: null, outcome: 'assessed', refusalReason: null, classification: null, draft, evidencePack: pack, interventions: [], injectionFlagged: false, provenance: provenance(), confidence: 0.8, startedAt: '', createdAt: '', ...over }
}

describe('grounding checks', () => {
  const base = { set: 'demo', pass: 'deterministic' as const, caseId: 'b01' }

  it('a grounded draft: all citations resolve, every number is in the pack, no certainty', () => {
    const c = checkDraft(assessment({ summary: 'Possibly memory: limit 1536Mi.', causes: [{ text: 'Possibly the pod hit its 1536Mi limit.', citations: ['E1'] }], steps: [{ text: 'Check hydrated lines above 250.', citations: ['E2'] }], similarIncidents: [], actions: [] }), base)
    expect(c).toMatchObject({ citations: 2, unresolved: [], unsupported: [], certainty: [], statements: 2 })
  })

  it('finds unknown refs, unsupported numbers and certainty in causes (elsewhere counted apart)', () => {
    const c = checkDraft(
      assessment({
        summary: 'The root cause is memory.',
        causes: [{ text: 'The root cause is a leak at 870 ms.', citations: ['E1', 'E9'] }],
        steps: [{ text: 'Definitely restart.', citations: ['E2'] }],
        similarIncidents: [{ incidentId: 'INC-1', title: 't', mitigation: 'm', citations: ['E7'] }],
        actions: [],
      }),
      base,
    )
    expect(c.citations).toBe(4)
    expect(c.unresolved).toEqual([{ where: 'causes[0]', ref: 'E9' }, { where: 'similarIncidents[0]', ref: 'E7' }])
    expect(c.unsupported).toEqual([{ where: 'causes[0]', facts: ['870 ms'] }, { where: 'similarIncidents[0]', facts: ['INC-1'] }])
    expect(c.certainty).toEqual([{ where: 'causes[0]', phrases: ['the root cause is'] }])
    expect(c.certaintyElsewhere).toBe(2)
    const m = groundingMetrics([c])
    expect(m.find((x) => x.id === 'grounding.citation_resolution')!.value).toBe(0.5)
    expect(m.find((x) => x.id === 'grounding.unsupported_numbers')!.value).toBe(2)
    expect(m.find((x) => x.id === 'grounding.certainty_phrases')!.value).toBe(1)
  })

  it('answers: sentences checked for refs and numbers, the shown text for certainty', () => {
    const a = assessment({ summary: '', causes: [], steps: [], similarIncidents: [], actions: [] }, { subject: 'question' })
    const c = checkAnswer({ sentences: [{ text: 'Above 250 lines is abnormal.', citations: ['E2'] }, { text: 'It was 99.9% certain.', citations: ['E5'] }], text: 'This is definitely it.' }, a, base)
    expect(c).toMatchObject({ kind: 'answer', citations: 2, unresolved: [{ where: 'sentences[1]', ref: 'E5' }], unsupported: [{ where: 'sentences[1]', facts: ['99.9%'] }], certainty: [{ where: 'answer', phrases: ['definitely'] }] })
  })

  it('no citations at all counts as fully resolved (nothing cited, nothing unresolved)', () => {
    const c = checkDraft(assessment({ summary: 'Unsure.', causes: [], steps: [], similarIncidents: [], actions: [] }), base)
    expect(groundingMetrics([c]).find((x) => x.id === 'grounding.citation_resolution')!.value).toBe(1)
  })
})

describe('LLM accounting', () => {
  it('percentiles by nearest rank', () => {
    expect(percentile([], 50)).toBeNull()
    expect(percentile([5], 95)).toBe(5)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5)
    expect(percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 95)).toBe(10)
  })

  it('instrument records every call and runs the hook first', async () => {
    const seen: string[] = []
    const inner: LlmClient = { model: 'm', structured: async () => ({ ok: false, reason: 'timeout', detail: 'x', tokens: null, latencyMs: 5.55 }) }
    const { client, calls } = instrument(inner, (schema, i) => seen.push(`${schema}#${i}`))
    await client.structured(z.object({}), { system: '', user: '' }, 'warden_answer')
    await client.structured(z.object({}), { system: '', user: '' }, 'warden_assessment')
    expect(seen).toEqual(['warden_answer#0', 'warden_assessment#1'])
    expect(calls).toEqual([
      { schema: 'warden_answer', ok: false, reason: 'timeout', latencyMs: 5.6, tokens: null },
      { schema: 'warden_assessment', ok: false, reason: 'timeout', latencyMs: 5.6, tokens: null },
    ])
    expect(client.model).toBe('m')
  })

  it('fallbacks by reason, interventions by type, tokens and cost', () => {
    const out = (o: Partial<OutputCheck>): OutputCheck => ({ set: 'demo', pass: 'llm', kind: 'draft', caseId: 'x', assessmentId: 'a', citations: 0, unresolved: [], unsupported: [], certainty: [], certaintyElsewhere: 0, statements: 0, interventions: [], provenance: provenance(), outcome: 'assessed', refused: null, injectionFlagged: false, ...o })
    const llm = [
      out({ provenance: provenance({ mode: 'llm', tokens: { prompt: 1000, completion: 200 }, latencyMs: 100 }), interventions: [{ type: 'certainty_language_removed', where: 'causes[0]', detail: '' }] }),
      out({ provenance: provenance({ fallbackReason: 'http_error: 500', latencyMs: 50 }) }),
      out({ provenance: provenance({ fallbackReason: 'malformed: bad json', tokens: { prompt: 3000, completion: 0 } }) }),
      out({ provenance: null, error: 'boom' }),
    ]
    const s = passStats(llm)
    expect(s).toMatchObject({ outputs: 4, llmUsed: 1, fallbacks: 2, fallbackReasons: { http_error: 1, malformed: 1 }, interventions: { certainty_language_removed: 1 } })
    expect(s.fallbackExamples.http_error).toBe('demo/x: http_error: 500')
    const cmp = compareLlm({ model: 'm', endpoint: 'e', fake: false, calls: [], det: [], llm, detMetrics: [], llmMetrics: [], prices: { input: 0.15, output: 0.6, source: 't' } })
    expect(cmp.tokens).toEqual({ prompt: 4000, completion: 200, casesWithTokens: 2, promptPerCase: 2000, completionPerCase: 100 })
    // 4000 × 0.15 / 1e6 + 200 × 0.6 / 1e6
    expect(cmp.cost.totalUsd).toBeCloseTo(0.00072, 8)
    expect(cmp.cost.perCaseUsd).toBeCloseTo(0.00036, 8)
  })

  it('the scripted fake rotates good, adversarial and three failure replies, per schema', () => {
    expect(FAKE_REPLY_KINDS).toEqual(['good', 'adversarial', 'http_error', 'malformed', 'schema_violation'])
    expect(scriptedReply('warden_assessment', 0)).toMatchObject({ kind: 'json', value: { causes: [expect.anything()] } })
    expect(scriptedReply('warden_answer', 5)).toMatchObject({ kind: 'json', value: { sentences: [expect.anything()] } })
    expect(scriptedReply('warden_answer', 1)).toMatchObject({ kind: 'json', value: { sentences: expect.arrayContaining([{ text: 'The root cause is definitely DNS.', citations: ['E1'] }]) } })
    expect(scriptedReply('warden_assessment', 2)).toEqual({ kind: 'http_error', status: 500 })
    expect(scriptedReply('warden_assessment', 3)).toMatchObject({ kind: 'raw' })
  })
})
