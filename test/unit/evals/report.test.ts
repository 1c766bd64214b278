import { describe, expect, it } from 'vitest'
import { parseThresholds } from '../../../evals/suite/config.js'
import { runGate } from '../../../evals/suite/gate.js'
import type { SuiteReport } from '../../../evals/suite/index.js'
import { compareLlm } from '../../../evals/suite/llm.js'
import { formatValue, renderSummary } from '../../../evals/suite/report.js'
import type { Metric } from '../../../evals/suite/types.js'

const thresholds = parseThresholds(`
version: 2
metrics:
  retrieval.external.hybrid.passage_r5: { min: 0.8 }
  classify.shared.macro_f1: { min: 0.97 }
  safety.demo.failed: { max: 0 }
  grounding.citation_resolution: { min: 1 }
`)

const metrics: Metric[] = [
  { id: 'retrieval.external.hybrid.passage_r5', section: 'retrieval', kind: 'ratio', value: 0.5, description: 'answering passage in the top 5' },
  { id: 'retrieval.external.hybrid_margin.passage_r5', section: 'retrieval', kind: 'margin', value: -0.031, description: 'hybrid minus best single' },
  { id: 'classify.shared.macro_f1', section: 'classify', kind: 'ratio', value: 1, description: 'macro F1' },
  { id: 'safety.demo.failed', section: 'safety', kind: 'count', value: 0, description: 'failed | covered cases' },
]

function report(over: Partial<SuiteReport> = {}): SuiteReport {
  const gate = runGate(metrics, thresholds, { sections: ['retrieval', 'classify', 'safety'], llm: false })
  return {
    version: 1,
    generatedAt: '2026-11-22T00:00:00.000Z',
    mode: 'deterministic',
    commit: { sha: 'abcdef0123456789', dirty: true },
    thresholdsVersion: 2,
    embedder: 'local-hash-v1',
    sections: ['retrieval', 'classify', 'safety'],
    durationMs: 125_000,
    timingsMs: { retrieval: { total: 20_000, external: 15_000, demo: 5_000 } },
    metrics,
    gate,
    failures: [
      { section: 'retrieval', set: 'external', id: 'p23', expected: 'top 5 has a passage of a.md containing "x"', got: 'no relevant source in the top 10; top 3: b#c' },
      { section: 'classify', set: 'shared', id: 'a07', expected: 'service x, team y, class network', got: 'class unknown ✗' },
    ],
    notes: ['retrieval limited to k=1 hits per query (degraded configuration)'],
    details: {},
    ...over,
  }
}

describe('summary.md', () => {
  it('leads with the verdict and names each failing metric with value and bound', () => {
    const md = renderSummary(report())
    expect(md.split('\n')[0]).toBe('# Warden evaluation — FAIL')
    expect(md).toMatch(/Gate FAILED.*`retrieval\.external\.hybrid\.passage_r5` \(0\.5 is not ≥ 0\.8\)/)
    expect(md).toMatch(/commit abcdef0123 \+ uncommitted changes/)
    expect(md).toMatch(/2m05s/)
    expect(md).toMatch(/> note: retrieval limited to k=1/)
  })

  it('has one table row per metric: value, threshold, result, meaning (pipes escaped)', () => {
    const md = renderSummary(report())
    expect(md).toContain('| metric | value | threshold | result | what it measures |')
    expect(md).toContain('| `retrieval.external.hybrid.passage_r5` | 0.500 | ≥ 0.8 | **FAIL** | answering passage in the top 5 |')
    expect(md).toContain('| `retrieval.external.hybrid_margin.passage_r5` | -0.031 | — | info |')
    expect(md).toContain('| `classify.shared.macro_f1` | 1.000 | ≥ 0.97 | pass |')
    expect(md).toContain('| `safety.demo.failed` | 0 | ≤ 0 | pass | failed \\| covered cases |')
    // A thresholded metric this run did not produce is listed too.
    expect(md).toMatch(/\| `grounding\.citation_resolution` \| — \| ≥ 1 \| skipped \| section grounding not run \|/)
  })

  it('lists failed cases by section and set with expected and got', () => {
    const md = renderSummary(report())
    expect(md).toContain('## Failed cases (2)')
    expect(md).toContain('### retrieval · external (1)')
    expect(md).toContain('- **p23** — expected: top 5 has a passage of a.md containing "x"')
    expect(md).toContain('  - got: no relevant source in the top 10; top 3: b#c')
    expect(md).toContain('### classify · shared (1)')
  })

  it('caps long failure lists and points at report.json', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ section: 'retrieval' as const, set: 'demo', id: `d${i}`, expected: 'e', got: 'g' }))
    const md = renderSummary(report({ failures: many }))
    expect(md).toContain('…and 8 more in report.json')
  })

  it('says PASS and how many metrics were checked when the gate passes', () => {
    const ok = metrics.map((m) => (m.id === 'retrieval.external.hybrid.passage_r5' ? { ...m, value: 0.9 } : m))
    const md = renderSummary(report({ metrics: ok, gate: runGate(ok, thresholds, { sections: ['retrieval', 'classify', 'safety'], llm: false }), failures: [] }))
    expect(md.split('\n')[0]).toBe('# Warden evaluation — PASS')
    expect(md).toMatch(/Gate passed\*\*: all 3 thresholded metrics meet evals\/thresholds\.yaml \(1 skipped: section grounding not run\)/)
    expect(md).toContain('## Failed cases\n\nNone.')
  })

  it('renders the LLM comparison: calls, latency, tokens, cost, fallbacks, interventions, deltas', () => {
    const det = { id: 'grounding.citation_resolution', section: 'grounding' as const, kind: 'ratio' as const, value: 1, description: 'd' }
    const llm = compareLlm({
      model: 'm', endpoint: 'http://x/v1', fake: true, calls: [{ schema: 'warden_answer', ok: true, reason: null, latencyMs: 10, tokens: { prompt: 1000, completion: 100 } }],
      det: [], llm: [], detMetrics: [det], llmMetrics: [{ ...det, id: 'llm.grounding.citation_resolution', value: 0.9 }], prices: { input: 1, output: 2, source: 'flags' },
    })
    const md = renderSummary(report({ mode: 'llm', llm: { ...llm, metrics: [], failures: [] } }))
    expect(md).toContain('## LLM path vs deterministic')
    expect(md).toMatch(/scripted fake server/)
    expect(md).toMatch(/model calls: 1 \(1 returned a valid structured reply\); call latency p50 10 ms, p95 10 ms/)
    expect(md).toContain('| `grounding.citation_resolution` | 1.000 | 0.900 | -0.100 |')
    expect(md).toMatch(/Not compared \(no LLM path\)/)
  })

  it('formats values by kind', () => {
    expect(formatValue(0.84375, 'ratio')).toBe('0.844')
    expect(formatValue(0.031, 'margin')).toBe('+0.031')
    expect(formatValue(3, 'count')).toBe('3')
    expect(formatValue(true, 'bool')).toBe('yes')
    expect(formatValue(null)).toBe('—')
  })
})
