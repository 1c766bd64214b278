import type { Bound, Thresholds } from './config.js'
import type { Metric, SectionName } from './types.js'

// The quality gate: every metric named in thresholds.yaml is compared with its bound. A metric the run
// should have produced but did not (a renamed id, a section that crashed) fails too — a gate that
// silently checks nothing is worse than none. Metrics of sections not run (`--only`) and `llm.*` metrics
// outside LLM mode are skipped, and said so.

export type Verdict = 'pass' | 'fail' | 'skipped'

export interface GateRow {
  id: string
  value: number | boolean | null
  bound: Bound
  verdict: Verdict
  why: string
}

export interface GateResult {
  pass: boolean
  rows: GateRow[]
  failed: GateRow[]
  /** Metrics reported without a threshold (context for the reader, never failing). */
  informational: string[]
}

export function describeBound(b: Bound): string {
  if (b.min !== undefined) return `≥ ${b.min}`
  if (b.max !== undefined) return `≤ ${b.max}`
  return `= ${b.equals}`
}

export function meets(value: number | boolean, b: Bound): boolean {
  if (b.equals !== undefined) return value === b.equals
  if (typeof value !== 'number' || Number.isNaN(value)) return false
  // Rounding noise (0.84375 stored as 0.8438) must not flip a verdict at the boundary.
  const eps = 1e-9
  if (b.min !== undefined) return value >= b.min - eps
  return value <= b.max! + eps
}

const sectionOf = (id: string): SectionName | null => {
  const s = id.replace(/^llm\./, '').split('.')[0]
  return s === 'retrieval' || s === 'classify' || s === 'safety' || s === 'grounding' ? s : null
}

export function runGate(metrics: Metric[], thresholds: Thresholds, ran: { sections: readonly SectionName[]; llm: boolean }): GateResult {
  const byId = new Map(metrics.map((m) => [m.id, m]))
  const rows: GateRow[] = Object.entries(thresholds.metrics).map(([id, bound]) => {
    const m = byId.get(id)
    const section = sectionOf(id)
    if (!m) {
      if (section && !ran.sections.includes(section)) return { id, value: null, bound, verdict: 'skipped', why: `section ${section} not run` }
      if (id.startsWith('llm.') && !ran.llm) return { id, value: null, bound, verdict: 'skipped', why: 'llm.* metrics need --mode llm' }
      return { id, value: null, bound, verdict: 'fail', why: section ? 'metric not produced by this run (renamed, or its cases failed to load?)' : `unknown section in metric id` }
    }
    const ok = meets(m.value, bound)
    return { id, value: m.value, bound, verdict: ok ? 'pass' : 'fail', why: ok ? '' : `${m.value} is not ${describeBound(bound)}` }
  })
  const failed = rows.filter((r) => r.verdict === 'fail')
  return { pass: failed.length === 0, rows, failed, informational: metrics.filter((m) => !(m.id in thresholds.metrics)).map((m) => m.id) }
}
