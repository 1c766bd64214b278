import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkClassifyTargets, CLASSIFY_TARGETS, evalClassifyFromFiles, formatClassifyReport, loadClassifyCases, runClassifyEval, type ClassifyCase } from '../../../evals/classify.js'
import { DEMO_CASES, DEMO_REFERENCE, paths, SHARED_CASES, SHARED_REFERENCE, shared } from './fixtures.js'

// The quality gate: deterministic classification on the shared dev set and on our demo set must meet
// the targets. These tests fail when a rule change degrades either set.

describe('classification quality gate', () => {
  for (const [name, casesPath, dir] of [
    ['shared dev set', SHARED_CASES, SHARED_REFERENCE],
    ['demo set', DEMO_CASES, DEMO_REFERENCE],
  ] as const) {
    it(`${name}: service ≥ 0.95, team ≥ 0.95, macro-F1 ≥ 0.90`, () => {
      const report = evalClassifyFromFiles({ casesPath, ...paths(dir) })
      const text = formatClassifyReport(report, name)
      expect(report.cases).toBeGreaterThanOrEqual(30)
      expect(checkClassifyTargets(report), text).toEqual([])
      expect(report.serviceAccuracy, text).toBeGreaterThanOrEqual(CLASSIFY_TARGETS.serviceAccuracy)
      expect(report.teamAccuracy, text).toBeGreaterThanOrEqual(CLASSIFY_TARGETS.teamAccuracy)
      expect(report.macroF1, text).toBeGreaterThanOrEqual(CLASSIFY_TARGETS.macroF1)
    })
  }

  it('can fail: without signature rules the shared set misses the macro-F1 target', () => {
    const report = runClassifyEval({ cases: loadClassifyCases(SHARED_CASES), ...shared, rules: [] })
    expect(report.macroF1).toBeLessThan(CLASSIFY_TARGETS.macroF1)
    expect(checkClassifyTargets(report)).toEqual([expect.stringMatching(/^macroF1 .* < target 0.9$/)])
    expect(report.wrong.length).toBeGreaterThan(30)
  })
})

const generic = (title: string, description: string, service?: string) => ({ title, description, ...(service && { service }) })
const kase = (id: string, payload: unknown, expected: Partial<ClassifyCase['expected']>): ClassifyCase => ({
  id,
  format: 'generic',
  payload,
  expected: { service: null, team: 'sre-oncall', failure_class: 'unknown', acceptable_classes: [], ...expected },
})

describe('runClassifyEval metrics', () => {
  const cases = [
    kase('c1', generic('OOMKilled', 'out of memory', 'checkout-api'), { service: 'checkout-api', team: 'storefront', failure_class: 'resource_exhaustion' }),
    // acceptable prediction: counts as correct and is mapped to the expected class
    kase('c2', generic('sales-etl wrote 0 rows', '', 'sales-etl'), { service: 'sales-etl', team: 'data-platform', failure_class: 'job_failure', acceptable_classes: ['data_freshness'] }),
    // wrong class and wrong service
    kase('c3', generic('Packet loss between zones', '', 'orders-db'), { service: 'inventory-db', team: 'data-platform', failure_class: 'dependency_failure' }),
    kase('c4', generic('XyzAnomaly', ''), {}),
    kase('c5', { nope: true }, { failure_class: 'network' }),
  ]
  const report = runClassifyEval({ cases, ...shared })

  it('computes accuracies, per-class F1 and macro-F1 over expected ∪ predicted classes', () => {
    expect(report.cases).toBe(5)
    expect(report.serviceAccuracy).toBe(0.6) // c1 c2 c4
    expect(report.teamAccuracy).toBe(0.8) // c1 c2 c3 c4
    expect(report.classAccuracy).toBe(0.6)
    expect(report.perClass['job_failure']).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 })
    expect(report.perClass['dependency_failure']).toMatchObject({ f1: 0, support: 1 })
    expect(report.perClass['network']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 }) // c5 expected network; c3 predicted it
    expect(report.confusion.labels).toEqual(['(error)', 'dependency_failure', 'job_failure', 'network', 'resource_exhaustion', 'unknown'])
    // classes: (error) 0, dependency 0, job 1, network 0, resource 1, unknown 1 → 3/6
    expect(report.macroF1).toBe(0.5)
    const row = (l: string) => report.confusion.matrix[report.confusion.labels.indexOf(l)]!
    expect(row('dependency_failure')[report.confusion.labels.indexOf('network')]).toBe(1)
    expect(row('job_failure')[report.confusion.labels.indexOf('job_failure')]).toBe(1)
  })

  it('lists wrong cases with expected, got and decidedBy, and payload errors', () => {
    expect(report.wrong.map((o) => o.id)).toEqual(['c3', 'c5'])
    const c3 = report.wrong[0]!
    expect(c3.got).toMatchObject({ service: 'orders-db', failureClass: 'network' })
    expect(c3.decidedBy['failureClass']).toMatch(/packet-loss/)
    expect(report.wrong[1]).toMatchObject({ got: null, error: expect.stringMatching(/not a valid generic JSON alert/) })
  })

  it('formats a readable report', () => {
    const text = formatClassifyReport(report, 'tiny')
    expect(text).toContain('tiny: 5 cases')
    expect(text).toMatch(/service accuracy\s+60\.0%/)
    expect(text).toMatch(/class macro-F1\s+0\.500/)
    expect(text).toContain('confusion (rows expected, columns predicted)')
    expect(text).toContain('- c3: service inventory-db ≠ orders-db; class dependency_failure ≠ network')
    expect(text).toContain('failureClass: network')
  })
})

describe('loadClassifyCases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-classify-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, lines: string[]) => {
    const p = join(dir, name)
    writeFileSync(p, lines.join('\n'))
    return p
  }
  const good = JSON.stringify(kase('ok', generic('t', ''), {}))

  it('loads both labelled sets', () => {
    expect(loadClassifyCases(SHARED_CASES)).toHaveLength(40)
    expect(loadClassifyCases(DEMO_CASES).length).toBeGreaterThanOrEqual(30)
  })

  it('defaults acceptable_classes and skips blank lines', () => {
    const { expected } = JSON.parse(good) as ClassifyCase
    const line = JSON.stringify({ id: 'x', format: 'auto', payload: {}, expected: { service: null, team: expected.team, failure_class: 'unknown' } })
    expect(loadClassifyCases(file('ok.jsonl', [line, '', '  ']))[0]!.expected.acceptable_classes).toEqual([])
  })

  it('reports the file, line and field of a bad line', () => {
    expect(() => loadClassifyCases(file('bad.jsonl', [good, '{"id":"b","format":"smtp","payload":{},"expected":{"service":null,"team":"t"}}']))).toThrow(/bad\.jsonl:2: format: .*; expected\.failure_class/)
    expect(() => loadClassifyCases(file('json.jsonl', ['{oops']))).toThrow(/json\.jsonl:1: invalid JSON/)
    expect(() => loadClassifyCases(file('dup.jsonl', [good, good]))).toThrow(/dup\.jsonl:2: duplicate id "ok"/)
  })
})
