import type { SignatureRule } from '../../src/alerts/classify/failure-class.js'
import { loadReference } from '../../src/policy/reference.js'
import { loadClassifyCases, runClassifyEval, type ClassifyReport } from '../classify.js'
import type { CaseSet } from './config.js'
import { round, type FailedCase, type Metric, type SectionResult } from './types.js'

// Classification: every labelled webhook payload normalised and classified by the deterministic rules
// (evals/classify.ts), against the set's own catalog and taxonomy. No database, no knowledge base.

export interface ClassifyDetails {
  sets: Record<string, Omit<ClassifyReport, 'outcomes'>>
}

export function runClassifySection(opts: { sets: CaseSet[]; rules?: readonly SignatureRule[]; note?: string }): SectionResult<ClassifyDetails> {
  const metrics: Metric[] = []
  const failures: FailedCase[] = []
  const timingsMs: Record<string, number> = {}
  const details: ClassifyDetails = { sets: {} }
  for (const set of opts.sets) {
    const t0 = performance.now()
    const { catalog, taxonomy } = loadReference(set.reference)
    const report = runClassifyEval({ cases: loadClassifyCases(set.classifyCases), catalog, taxonomy, ...(opts.rules && { rules: opts.rules }) })
    timingsMs[set.label] = Math.round(performance.now() - t0)
    const { outcomes: _outcomes, ...rest } = report
    details.sets[set.label] = rest
    metrics.push(...classifyMetrics(set.label, report))
    failures.push(...classifyFailures(set.label, report))
  }
  return { section: 'classify', metrics, failures, timingsMs, details, notes: opts.note ? [opts.note] : [] }
}

export function classifyMetrics(set: string, r: ClassifyReport): Metric[] {
  const p = `classify.${set}`
  const what = set === 'shared' ? 'shared labelled alerts' : 'demo labelled alerts'
  return [
    { id: `${p}.service_accuracy`, section: 'classify', kind: 'ratio', value: round(r.serviceAccuracy), description: `${what}: share whose service (or "none") matches the label` },
    { id: `${p}.team_accuracy`, section: 'classify', kind: 'ratio', value: round(r.teamAccuracy), description: `${what}: share routed to the labelled team` },
    { id: `${p}.class_accuracy`, section: 'classify', kind: 'ratio', value: round(r.classAccuracy), description: `${what}: share with the labelled (or an acceptable) failure class` },
    { id: `${p}.macro_f1`, section: 'classify', kind: 'ratio', value: round(r.macroF1), description: `${what}: failure-class F1 averaged over classes (spurious classes count as 0)` },
  ]
}

export function classifyFailures(set: string, r: ClassifyReport): FailedCase[] {
  return r.wrong.map((o) => {
    const exp = `service ${o.expected.service ?? 'none'}, team ${o.expected.team}, class ${[o.expected.failureClass, ...o.expected.acceptable].join('|')}`
    const g = o.got
    const got = g
      ? `${o.serviceOk ? '' : `service ${g.service ?? 'none'} ✗, `}${o.teamOk ? '' : `team ${g.team} ✗, `}${o.classOk ? '' : `class ${g.failureClass} ✗ (${o.decidedBy.failureClass ?? 'no rule'})`}`.replace(/, $/, '')
      : `payload rejected: ${o.error ?? 'unknown error'}`
    return { section: 'classify' as const, set, id: o.id, expected: exp, got }
  })
}
