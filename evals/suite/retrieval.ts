import path from 'node:path'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { loadCases, MODES, runRetrievalEval, type RetrievalCase, type RetrievalReport } from '../retrieval.js'
import type { CaseSet } from './config.js'
import { round, type FailedCase, type Metric, type SectionResult } from './types.js'

// Retrieval: each set's corpus ingested into a fresh embedded database, every question searched with the
// hybrid, full-text and vector retrievers (evals/retrieval.ts). Headline: hybrid at passage level — the
// hit must come from a relevant source AND contain an evidence phrase, which is what a citation rests on.

export interface RetrievalDetails {
  sets: Record<string, Omit<RetrievalReport, 'results'> & { results: RetrievalReport['results'] }>
}

export async function runRetrievalSection(opts: { sets: CaseSet[]; embedder: EmbeddingProvider; k?: number }): Promise<SectionResult<RetrievalDetails>> {
  const metrics: Metric[] = []
  const failures: FailedCase[] = []
  const timingsMs: Record<string, number> = {}
  const details: RetrievalDetails = { sets: {} }
  for (const set of opts.sets) {
    const t0 = performance.now()
    const cases = loadCases(set.retrievalCases)
    const report = await runRetrievalEval({ corpus: set.corpus, cases, embedder: opts.embedder, ...(opts.k !== undefined && { k: opts.k }) })
    timingsMs[set.name] = Math.round(performance.now() - t0)
    details.sets[set.name] = report
    metrics.push(...retrievalMetrics(set.name, report))
    failures.push(...retrievalFailures(set.name, cases, report))
  }
  const notes = opts.k !== undefined ? [`retrieval limited to k=${opts.k} hits per query (degraded configuration)`] : []
  return { section: 'retrieval', metrics, failures, timingsMs, details, notes }
}

export function retrievalMetrics(set: string, r: RetrievalReport): Metric[] {
  const p = `retrieval.${set}`
  const m = r.modes
  const best = (f: (x: (typeof m)['hybrid']) => number) => Math.max(...MODES.filter((x) => x !== 'hybrid').map((x) => f(m[x])))
  const what = set === 'external' ? 'shared questions over the external feed' : 'demo questions over ingest/corpus'
  return [
    { id: `${p}.hybrid.passage_r5`, section: 'retrieval', kind: 'ratio', value: round(m.hybrid.passage.recall_at_5), description: `${what}: share whose answering passage is in hybrid's top 5` },
    { id: `${p}.hybrid.passage_mrr`, section: 'retrieval', kind: 'ratio', value: round(m.hybrid.passage.mrr), description: `${what}: mean 1/rank of the answering passage (hybrid, top 10)` },
    { id: `${p}.hybrid.passage_r1`, section: 'retrieval', kind: 'ratio', value: round(m.hybrid.passage.recall_at_1), description: `${what}: share whose answering passage is hybrid's first hit` },
    { id: `${p}.hybrid.document_r5`, section: 'retrieval', kind: 'ratio', value: round(m.hybrid.document.recall_at_5), description: `${what}: share with a relevant source in hybrid's top 5` },
    { id: `${p}.fts.passage_r5`, section: 'retrieval', kind: 'ratio', value: round(m.fts.passage.recall_at_5), description: `${what}: passage R@5 of full-text search alone` },
    { id: `${p}.vector.passage_r5`, section: 'retrieval', kind: 'ratio', value: round(m.vector.passage.recall_at_5), description: `${what}: passage R@5 of vector search alone` },
    { id: `${p}.hybrid_margin.passage_r5`, section: 'retrieval', kind: 'margin', value: round(m.hybrid.passage.recall_at_5 - best((x) => x.passage.recall_at_5)), description: `hybrid passage R@5 minus the better single retriever's (≥ 0: hybrid is at least as good)` },
    { id: `${p}.hybrid_margin.passage_mrr`, section: 'retrieval', kind: 'margin', value: round(m.hybrid.passage.mrr - best((x) => x.passage.mrr)), description: `hybrid passage MRR minus the better single retriever's (≥ 0: hybrid is at least as good)` },
    { id: `${p}.hybrid_ge_single`, section: 'retrieval', kind: 'bool', value: m.hybrid.passage.recall_at_5 >= best((x) => x.passage.recall_at_5) && m.hybrid.passage.mrr >= best((x) => x.passage.mrr), description: 'the goal: hybrid passage R@5 and MRR both at least those of full-text and of vector search alone' },
  ]
}

const short = (uri: string, heading: string[]) => `${uri.split('/').filter(Boolean).pop() ?? uri}#${heading.at(-1) ?? ''}`

/** Hybrid passage misses at 5: the question, what should have come back, what came back instead. */
export function retrievalFailures(set: string, cases: RetrievalCase[], r: RetrievalReport): FailedCase[] {
  const byId = new Map(cases.map((c) => [c.id, c]))
  return r.results
    .filter((x) => x.mode === 'hybrid' && (x.passageRank === null || x.passageRank > 5))
    .map((x) => {
      const c = byId.get(x.id)!
      const rank = x.documentRank === null ? 'no relevant source in the top 10' : `relevant source at rank ${x.documentRank}, passage ${x.passageRank === null ? 'not in the top 10' : `at rank ${x.passageRank}`}`
      return {
        section: 'retrieval' as const,
        set,
        id: x.id,
        expected: `top 5 has a passage of ${c.relevant.map((u) => path.basename(u.replace(/\/$/, ''))).join(' or ')} containing "${c.evidence.join('" or "')}"`,
        got: `${rank}; top 3: ${x.top.map((t) => short(t.uri, t.headingPath)).join(' | ') || '(no hits)'}`,
      }
    })
}
