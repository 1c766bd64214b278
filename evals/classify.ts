import fs from 'node:fs'
import { z } from 'zod'
import { classifyAlertDetailed } from '../src/alerts/classify/index.js'
import type { Neighbour, SignatureRule } from '../src/alerts/classify/failure-class.js'
import { normalizeAlert } from '../src/alerts/normalize/index.js'
import type { Catalog } from '../src/policy/catalog.js'
import { loadReference } from '../src/policy/reference.js'
import type { Taxonomy } from '../src/policy/taxonomy.js'

// Classification eval: each labelled webhook payload is normalised and classified deterministically,
// then compared with its labels.
//  - service / team accuracy: exact equality (service may be null: "nothing in the catalog").
//  - failure class: a prediction is correct when it equals `failure_class` or is in
//    `acceptable_classes`; for F1 and the confusion matrix an acceptable prediction is mapped to the
//    expected class. Macro-F1 is the mean per-class F1 over every class present in the expected labels
//    or the (mapped) predictions — a class predicted but never expected counts with F1 = 0, as in
//    scikit-learn's default — so spurious predictions are penalised, not ignored.

export const ClassifyCase = z.object({
  id: z.string().min(1),
  format: z.enum(['alertmanager', 'grafana', 'pagerduty', 'generic', 'auto']),
  payload: z.unknown(),
  expected: z.object({
    service: z.string().nullable(),
    team: z.string().min(1),
    failure_class: z.string().min(1),
    acceptable_classes: z.array(z.string()).default([]),
  }),
})
export type ClassifyCase = z.infer<typeof ClassifyCase>

/** Parse a JSONL file of labelled alerts; throws with `file:line: problem` on the first bad line. */
export function loadClassifyCases(file: string): ClassifyCase[] {
  const out: ClassifyCase[] = []
  const ids = new Set<string>()
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return
      let json: unknown
      try {
        json = JSON.parse(line)
      } catch (e) {
        throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`)
      }
      const parsed = ClassifyCase.safeParse(json)
      if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`)
      if (ids.has(parsed.data.id)) throw new Error(`${file}:${i + 1}: duplicate id ${JSON.stringify(parsed.data.id)}`)
      ids.add(parsed.data.id)
      out.push(parsed.data)
    })
  return out
}

export interface CaseOutcome {
  id: string
  expected: { service: string | null; team: string; failureClass: string; acceptable: string[] }
  got: { service: string | null; team: string; failureClass: string; severity: string; confidence: number } | null
  serviceOk: boolean
  teamOk: boolean
  classOk: boolean
  decidedBy: Record<string, string>
  error?: string
}

export interface ClassMetrics {
  precision: number
  recall: number
  f1: number
  support: number
}

export interface ClassifyReport {
  cases: number
  serviceAccuracy: number
  teamAccuracy: number
  classAccuracy: number
  macroF1: number
  perClass: Record<string, ClassMetrics>
  /** Rows: expected class; columns: predicted class (acceptable predictions mapped to expected). */
  confusion: { labels: string[]; matrix: number[][] }
  severityCounts: Record<string, number>
  meanConfidence: number
  outcomes: CaseOutcome[]
  wrong: CaseOutcome[]
}

export interface ClassifyEvalInput {
  cases: readonly ClassifyCase[]
  catalog: Catalog
  taxonomy: Taxonomy
  /** Optional neighbours per case (e.g. from the knowledge base); default none (pure rules). */
  neighboursFor?: (c: ClassifyCase) => readonly Neighbour[]
  /** Override the signature rules (experiments; the tests use it to show the gate can fail). */
  rules?: readonly SignatureRule[]
}

const r4 = (n: number) => Math.round(n * 10000) / 10000

export function runClassifyEval(input: ClassifyEvalInput): ClassifyReport {
  const { cases, catalog, taxonomy } = input
  const outcomes: CaseOutcome[] = []
  const pairs: Array<[string, string]> = [] // [expected, mapped prediction]
  const severityCounts: Record<string, number> = {}
  let confidenceSum = 0
  for (const c of cases) {
    const expected = { service: c.expected.service, team: c.expected.team, failureClass: c.expected.failure_class, acceptable: c.expected.acceptable_classes }
    const norm = normalizeAlert(c.format, c.payload)
    const alert = norm.ok ? norm.alerts[0] : undefined
    if (!alert) {
      const error = norm.ok ? 'payload has no alerts' : norm.error.message
      outcomes.push({ id: c.id, expected, got: null, serviceOk: false, teamOk: false, classOk: false, decidedBy: {}, error })
      pairs.push([expected.failureClass, '(error)'])
      continue
    }
    const neighbours = input.neighboursFor?.(c)
    const { classification: k } = classifyAlertDetailed(alert, { catalog, taxonomy, ...(neighbours && { neighbours }), ...(input.rules && { rules: input.rules }) })
    const classOk = k.failureClass === expected.failureClass || expected.acceptable.includes(k.failureClass)
    pairs.push([expected.failureClass, classOk ? expected.failureClass : k.failureClass])
    severityCounts[k.severity] = (severityCounts[k.severity] ?? 0) + 1
    confidenceSum += k.confidence
    outcomes.push({
      id: c.id,
      expected,
      got: { service: k.service, team: k.team, failureClass: k.failureClass, severity: k.severity, confidence: k.confidence },
      serviceOk: k.service === expected.service,
      teamOk: k.team === expected.team,
      classOk,
      decidedBy: k.decidedBy,
    })
  }
  const n = cases.length
  const labels = [...new Set(pairs.flat())].sort()
  const index = new Map(labels.map((l, i) => [l, i]))
  const matrix = labels.map(() => labels.map(() => 0))
  for (const [e, p] of pairs) matrix[index.get(e)!]![index.get(p)!]!++
  const perClass: Record<string, ClassMetrics> = {}
  for (const l of labels) {
    const tp = pairs.filter(([e, p]) => e === l && p === l).length
    const fp = pairs.filter(([e, p]) => e !== l && p === l).length
    const fn = pairs.filter(([e, p]) => e === l && p !== l).length
    const precision = tp + fp ? tp / (tp + fp) : 0
    const recall = tp + fn ? tp / (tp + fn) : 0
    perClass[l] = { precision: r4(precision), recall: r4(recall), f1: r4(precision + recall ? (2 * precision * recall) / (precision + recall) : 0), support: tp + fn }
  }
  const f1s = Object.values(perClass).map((m) => m.f1)
  const ratio = (k: number) => (n ? r4(k / n) : 0)
  return {
    cases: n,
    serviceAccuracy: ratio(outcomes.filter((o) => o.serviceOk).length),
    teamAccuracy: ratio(outcomes.filter((o) => o.teamOk).length),
    classAccuracy: ratio(outcomes.filter((o) => o.classOk).length),
    macroF1: f1s.length ? r4(f1s.reduce((a, b) => a + b, 0) / f1s.length) : 0,
    perClass,
    confusion: { labels, matrix },
    severityCounts,
    meanConfidence: n ? r4(confidenceSum / n) : 0,
    outcomes,
    wrong: outcomes.filter((o) => !o.serviceOk || !o.teamOk || !o.classOk),
  }
}

/** Quality gate for deterministic mode (shared dev set); the CLI can exit non-zero on any failure. */
export const CLASSIFY_TARGETS = Object.freeze({ serviceAccuracy: 0.95, teamAccuracy: 0.95, macroF1: 0.9 })

/** Which targets a report misses, as readable lines; empty when it meets them all. */
export function checkClassifyTargets(report: ClassifyReport, targets: { serviceAccuracy: number; teamAccuracy: number; macroF1: number } = CLASSIFY_TARGETS): string[] {
  return (Object.keys(targets) as Array<keyof typeof targets>)
    .filter((k) => !(report[k] >= targets[k]))
    .map((k) => `${k} ${report[k]} < target ${targets[k]}`)
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

/** Readable text report: headline figures, per-class table, confusion matrix, wrong cases. */
export function formatClassifyReport(report: ClassifyReport, title = 'Classification eval'): string {
  const lines: string[] = []
  lines.push(`${title}: ${report.cases} cases`)
  lines.push(`  service accuracy  ${pct(report.serviceAccuracy)}`)
  lines.push(`  team accuracy     ${pct(report.teamAccuracy)}`)
  lines.push(`  class accuracy    ${pct(report.classAccuracy)}`)
  lines.push(`  class macro-F1    ${report.macroF1.toFixed(3)}`)
  lines.push(`  mean confidence   ${report.meanConfidence.toFixed(2)}   severities ${Object.entries(report.severityCounts).map(([k, v]) => `${k}=${v}`).join(' ')}`)
  lines.push('')
  const w = Math.max(12, ...report.confusion.labels.map((l) => l.length))
  lines.push(`  ${'class'.padEnd(w)}  precision  recall     f1  support`)
  for (const [l, m] of Object.entries(report.perClass)) {
    lines.push(`  ${l.padEnd(w)}  ${m.precision.toFixed(3).padStart(9)}  ${m.recall.toFixed(3).padStart(6)}  ${m.f1.toFixed(3).padStart(5)}  ${String(m.support).padStart(7)}`)
  }
  lines.push('')
  const { labels, matrix } = report.confusion
  const abbrev = labels.map((_, i) => `c${i + 1}`)
  lines.push('  confusion (rows expected, columns predicted):')
  lines.push(`  ${''.padEnd(w + 5)}${abbrev.map((a) => a.padStart(4)).join('')}`)
  labels.forEach((l, i) => lines.push(`  ${`${abbrev[i]} ${l}`.padEnd(w + 5)}${matrix[i]!.map((v) => (v ? String(v) : '.').padStart(4)).join('')}`))
  lines.push('')
  if (report.wrong.length === 0) lines.push('  no wrong cases')
  else {
    lines.push(`  wrong cases (${report.wrong.length}):`)
    for (const o of report.wrong) {
      const g = o.got
      const what: string[] = []
      if (!o.serviceOk) what.push(`service ${o.expected.service ?? 'null'} ≠ ${g ? (g.service ?? 'null') : '-'}`)
      if (!o.teamOk) what.push(`team ${o.expected.team} ≠ ${g?.team ?? '-'}`)
      if (!o.classOk) what.push(`class ${o.expected.failureClass}${o.expected.acceptable.length ? `|${o.expected.acceptable.join('|')}` : ''} ≠ ${g?.failureClass ?? '-'}`)
      lines.push(`  - ${o.id}: ${what.join('; ')}${o.error ? ` (error: ${o.error})` : ''}`)
      for (const [k, v] of Object.entries(o.decidedBy)) if (k !== 'confidence') lines.push(`      ${k}: ${v}`)
    }
  }
  return lines.join('\n')
}

export interface ClassifyEvalPaths {
  casesPath: string
  catalogPath: string
  taxonomyPath: string
  policyPath: string
}

/** Load the reference files (all three, as startup does) and the cases, then run the eval. */
export function evalClassifyFromFiles(paths: ClassifyEvalPaths): ClassifyReport {
  const { catalog, taxonomy } = loadReference({ catalogPath: paths.catalogPath, taxonomyPath: paths.taxonomyPath, policyPath: paths.policyPath })
  return runClassifyEval({ cases: loadClassifyCases(paths.casesPath), catalog, taxonomy })
}
