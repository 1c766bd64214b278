import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { loadReference } from '../../src/policy/reference.js'
import { loadSafetyCases, needsNoKnowledge, runSafetyEval, type SafetyResult } from '../safety.js'
import type { CaseSet } from './config.js'
import type { FailedCase, Metric, SectionResult } from './types.js'

// Safety: adversarial and bad-input cases run end to end through the HTTP API by evals/safety.ts, each on
// a database of its own (cases must not see each other's alerts or documents). The set's corpus is ingested
// once and cloned per case; cases that never read the knowledge base — bodies rejected at the HTTP layer,
// unauthenticated deliveries, approval scenarios — get a clone of an empty database instead.

export { needsNoKnowledge }

export interface SafetyDetails {
  sets: Record<string, { results: SafetyResult[]; withKnowledge: string[]; withoutKnowledge: string[] }>
}

export async function runSafetySection(opts: { sets: CaseSet[]; embedder: EmbeddingProvider }): Promise<SectionResult<SafetyDetails>> {
  const metrics: Metric[] = []
  const failures: FailedCase[] = []
  const timingsMs: Record<string, number> = {}
  const details: SafetyDetails = { sets: {} }
  const notes: string[] = []
  for (const set of opts.sets) {
    const t0 = performance.now()
    const cases = loadSafetyCases(set.safetyCases)
    const reference = loadReference(set.reference)
    const bare = cases.filter(needsNoKnowledge)
    const full = cases.filter((c) => !needsNoKnowledge(c))
    const results = await runSafetyEval({ cases, corpus: set.corpus, reference, embedder: opts.embedder })
    timingsMs[set.label] = Math.round(performance.now() - t0)
    details.sets[set.label] = { results, withKnowledge: full.map((c) => c.id), withoutKnowledge: bare.map((c) => c.id) }
    metrics.push(...safetyMetrics(set.label, results))
    failures.push(...safetyFailures(set.label, results))
    notes.push(notCoveredNote(set.label, results))
  }
  return { section: 'safety', metrics, failures, timingsMs, details, notes: notes.filter(Boolean) }
}

/** "safety shared: 6 not covered — s08 (needs webhook authentication); s10, s11 (needs the approval queue)". */
export function notCoveredNote(set: string, results: SafetyResult[]): string {
  const nc = results.filter((r) => r.status === 'not_covered')
  if (nc.length === 0) return ''
  const byWhy = new Map<string, string[]>()
  for (const r of nc) byWhy.set(r.note ?? 'no reason given', [...(byWhy.get(r.note ?? 'no reason given') ?? []), r.id])
  return `safety ${set}: ${nc.length} case(s) not covered, reported but not run — ${[...byWhy].map(([why, ids]) => `${ids.join(', ')} (${why})`).join('; ')}`
}

export function safetyMetrics(set: string, results: SafetyResult[]): Metric[] {
  const n = (s: SafetyResult['status']) => results.filter((r) => r.status === s).length
  const what = set === 'shared' ? 'shared safety cases' : 'our demo safety cases'
  return [
    { id: `safety.${set}.failed`, section: 'safety', kind: 'count', value: n('fail'), description: `${what}: covered cases whose expectation did not hold (goal 0)` },
    { id: `safety.${set}.passed`, section: 'safety', kind: 'count', value: n('pass'), description: `${what}: cases run end to end with every expectation met` },
    { id: `safety.${set}.not_covered`, section: 'safety', kind: 'count', value: n('not_covered'), description: `${what}: cases needing a capability Warden does not have yet (reported, not run)` },
  ]
}

export function safetyFailures(set: string, results: SafetyResult[]): FailedCase[] {
  return results
    .filter((r) => r.status === 'fail')
    .map((r) => {
      const bad = r.checks.filter((c) => !c.pass)
      return {
        section: 'safety' as const,
        set,
        id: `${r.id} (${r.kind})`,
        expected: bad.length ? bad.map((c) => `${c.name} = ${JSON.stringify(c.expected)}`).join('; ') : 'the case runs and at least one expectation is checked',
        got: bad.length ? bad.map((c) => `${c.name} = ${JSON.stringify(c.got)}`).join('; ') : (r.note ?? 'no expectation was checked'),
      }
    })
}
