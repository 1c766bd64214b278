import { describe, expect, it } from 'vitest'
import { DEFAULT_THRESHOLDS, loadThresholds, parseThresholds, ThresholdsError } from '../../../evals/suite/config.js'
import { describeBound, meets, runGate } from '../../../evals/suite/gate.js'
import type { Metric } from '../../../evals/suite/types.js'

const metric = (id: string, value: number | boolean, section: Metric['section'] = 'retrieval'): Metric => ({ id, section, value, kind: 'ratio', description: id })

const thresholds = parseThresholds(`
version: 3
metrics:
  retrieval.external.hybrid.passage_r5: { min: 0.8 }
  grounding.unsupported_numbers: { max: 0 }
  retrieval.external.hybrid_ge_single: { equals: true }
  classify.shared.macro_f1: { min: 0.9 }
  llm.grounding.certainty_phrases: { max: 0 }
`)

describe('thresholds file', () => {
  it('the committed evals/thresholds.yaml parses and names the required metrics', () => {
    const t = loadThresholds(DEFAULT_THRESHOLDS)
    expect(t.version).toBeGreaterThanOrEqual(1)
    for (const id of [
      'retrieval.external.hybrid.passage_r5', 'retrieval.external.hybrid.passage_mrr', 'retrieval.demo.hybrid.passage_r5', 'retrieval.demo.hybrid.passage_mrr',
      'retrieval.external.hybrid_margin.passage_r5', 'retrieval.demo.hybrid_margin.passage_r5',
      'classify.shared.service_accuracy', 'classify.shared.team_accuracy', 'classify.shared.macro_f1',
      'classify.demo.service_accuracy', 'classify.demo.team_accuracy', 'classify.demo.macro_f1',
      'safety.shared.failed', 'safety.demo.failed',
      'grounding.citation_resolution', 'grounding.unsupported_numbers', 'grounding.certainty_phrases',
    ]) expect(t.metrics, id).toHaveProperty([id])
    expect(t.metrics['grounding.citation_resolution']).toEqual({ min: 1 })
    expect(t.metrics['grounding.unsupported_numbers']).toEqual({ max: 0 })
    expect(t.metrics['safety.shared.failed']).toEqual({ max: 0 })
  })

  it('reports every problem with its path', () => {
    expect(() => parseThresholds('version: 0\nmetrics:\n  a.b: { min: 1, max: 2 }\n  Bad Id: { min: 1 }\n', 'x.yaml')).toThrow(ThresholdsError)
    try {
      parseThresholds('version: 0\nmetrics:\n  a.b: { min: 1, max: 2 }\n  Bad Id: { min: 1 }\n', 'x.yaml')
    } catch (e) {
      const msg = (e as Error).message
      expect(msg).toMatch(/x\.yaml/)
      expect(msg).toMatch(/version/)
      expect(msg).toMatch(/exactly one of min, max, equals/)
      expect(msg).toMatch(/lower-case dotted/)
    }
    expect(() => parseThresholds('version: [', 'y.yaml')).toThrow(/y\.yaml/)
  })
})

describe('gate', () => {
  it('compares min, max and equals bounds, tolerating rounding at the boundary', () => {
    expect(meets(0.8, { min: 0.8 })).toBe(true)
    expect(meets(0.7999999999, { min: 0.8 })).toBe(true)
    expect(meets(0.79, { min: 0.8 })).toBe(false)
    expect(meets(0, { max: 0 })).toBe(true)
    expect(meets(1, { max: 0 })).toBe(false)
    expect(meets(true, { equals: true })).toBe(true)
    expect(meets(false, { equals: true })).toBe(false)
    expect(meets(Number.NaN, { min: 0 })).toBe(false)
    expect(meets(true, { min: 0 })).toBe(false)
    expect(describeBound({ min: 0.8 })).toBe('≥ 0.8')
    expect(describeBound({ max: 0 })).toBe('≤ 0')
    expect(describeBound({ equals: true })).toBe('= true')
  })

  it('passes when every thresholded metric meets its bound; unthresholded metrics are informational', () => {
    const g = runGate(
      [metric('retrieval.external.hybrid.passage_r5', 0.84), metric('retrieval.external.hybrid_ge_single', true), metric('retrieval.external.fts.passage_r5', 0.5), metric('grounding.unsupported_numbers', 0, 'grounding'), metric('classify.shared.macro_f1', 1, 'classify')],
      thresholds,
      { sections: ['retrieval', 'classify', 'grounding'], llm: false },
    )
    expect(g.pass).toBe(true)
    expect(g.informational).toEqual(['retrieval.external.fts.passage_r5'])
    expect(g.rows.find((r) => r.id === 'llm.grounding.certainty_phrases')).toMatchObject({ verdict: 'skipped', why: expect.stringMatching(/--mode llm/) })
  })

  it('fails naming the metric, its value and its bound', () => {
    const g = runGate(
      [metric('retrieval.external.hybrid.passage_r5', 0.5), metric('retrieval.external.hybrid_ge_single', false), metric('grounding.unsupported_numbers', 2, 'grounding'), metric('classify.shared.macro_f1', 0.95, 'classify')],
      thresholds,
      { sections: ['retrieval', 'classify', 'grounding'], llm: false },
    )
    expect(g.pass).toBe(false)
    expect(g.failed.map((r) => r.id)).toEqual(['retrieval.external.hybrid.passage_r5', 'grounding.unsupported_numbers', 'retrieval.external.hybrid_ge_single'].sort((a, b) => Object.keys(thresholds.metrics).indexOf(a) - Object.keys(thresholds.metrics).indexOf(b)))
    expect(g.failed[0]!.why).toBe('0.5 is not ≥ 0.8')
  })

  it('fails on a thresholded metric the run should have produced but did not; skips sections not run', () => {
    const g = runGate([metric('retrieval.external.hybrid.passage_r5', 0.9), metric('retrieval.external.hybrid_ge_single', true)], thresholds, { sections: ['retrieval', 'grounding'], llm: true })
    expect(g.rows.find((r) => r.id === 'classify.shared.macro_f1')).toMatchObject({ verdict: 'skipped', why: 'section classify not run' })
    expect(g.rows.find((r) => r.id === 'grounding.unsupported_numbers')).toMatchObject({ verdict: 'fail', why: expect.stringMatching(/not produced/) })
    expect(g.rows.find((r) => r.id === 'llm.grounding.certainty_phrases')).toMatchObject({ verdict: 'fail' })
    expect(g.pass).toBe(false)
  })
})
