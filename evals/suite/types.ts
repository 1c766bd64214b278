// Shared shapes of the evaluation suite: every section returns metrics (flat, with stable ids that the
// thresholds file names) and the cases it got wrong (what was expected, what came out).

export type SectionName = 'retrieval' | 'classify' | 'safety' | 'grounding'
export const SECTIONS: readonly SectionName[] = ['retrieval', 'classify', 'safety', 'grounding']

export interface Metric {
  /** Stable id, e.g. `retrieval.external.hybrid.passage_r5`; thresholds.yaml refers to metrics by it. */
  id: string
  section: SectionName
  value: number | boolean
  /** How to print the value: a share (0–1, shown to 3 decimals), a count, a signed margin or a yes/no. */
  kind: 'ratio' | 'count' | 'margin' | 'bool' | 'ms'
  /** One line a reader who did not write the suite can act on. */
  description: string
}

export interface FailedCase {
  section: SectionName
  /** Which case set: `external`, `demo`, `shared`… */
  set: string
  id: string
  expected: string
  got: string
}

export interface SectionResult<Details = unknown> {
  section: SectionName
  metrics: Metric[]
  failures: FailedCase[]
  timingsMs: Record<string, number>
  /** Section-specific detail for report.json (per-case results, confusion matrices…). */
  details: Details
  notes: string[]
}

export const round = (x: number, digits = 4) => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
