import fs from 'node:fs'
import { z } from 'zod'
import { runIngest } from '../ingest/pipeline.js'
import { openDatabase } from '../src/db/index.js'
import type { EmbeddingProvider } from '../src/knowledge/embeddings/types.js'
import { search, type SearchHit } from '../src/knowledge/search.js'

// Retrieval eval: a fresh embedded database, the corpus ingested, every case searched with each retriever.
// Document level: a hit's source URI is relevant. Passage level: that hit's chunk text also contains an
// evidence phrase (case-insensitive, whitespace folded) — what citations will rest on.

export const RetrievalCase = z.object({
  id: z.string(),
  question: z.string().min(1),
  relevant: z.array(z.string()).min(1),
  evidence: z.array(z.string()).min(1),
  service: z.string().optional(),
  kind: z.enum(['runbook', 'case_study', 'telemetry', 'doc']).optional(),
})
export type RetrievalCase = z.infer<typeof RetrievalCase>

export type Mode = 'hybrid' | 'fts' | 'vector'
export const MODES: Mode[] = ['hybrid', 'fts', 'vector']
const MRR_DEPTH = 10

export interface LevelMetrics {
  recall_at_1: number
  recall_at_5: number
  mrr: number
}
export interface ModeMetrics {
  document: LevelMetrics
  passage: LevelMetrics
}
export interface CaseResult {
  id: string
  mode: Mode
  documentRank: number | null
  passageRank: number | null
  top: Array<{ uri: string; headingPath: string[] }>
}
export interface RetrievalReport {
  cases: number
  chunks: number
  embeddingModel: string
  modes: Record<Mode, ModeMetrics>
  results: CaseResult[]
  ingestMs: number
}

export function loadCases(file: string): RetrievalCase[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const parsed = RetrievalCase.safeParse(JSON.parse(l))
      if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`)
      return parsed.data
    })
}

const fold = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim()

export function rankOf(hits: SearchHit[], c: RetrievalCase, level: 'document' | 'passage'): number | null {
  const relevant = new Set(c.relevant)
  const phrases = c.evidence.map(fold)
  const i = hits.findIndex((h) => relevant.has(h.sourceUri) && (level === 'document' || phrases.some((p) => fold(h.text).includes(p))))
  return i < 0 ? null : i + 1
}

function metrics(ranks: Array<number | null>): LevelMetrics {
  const n = ranks.length || 1
  const at = (k: number) => ranks.filter((r) => r !== null && r <= k).length / n
  return { recall_at_1: at(1), recall_at_5: at(5), mrr: ranks.reduce<number>((s, r) => s + (r ? 1 / r : 0), 0) / n }
}

export async function runRetrievalEval(opts: {
  corpus: string[]
  cases: RetrievalCase[]
  embedder: EmbeddingProvider
  maxBytes?: number
  /** Cap on hits per query; lowering it is how the quality gate's degraded configuration is simulated. */
  k?: number
}): Promise<RetrievalReport> {
  const db = await openDatabase({ kind: 'pglite', dataDir: null })
  try {
    const ingest = await runIngest({ db, embedder: opts.embedder }, { inputs: opts.corpus, maxBytes: opts.maxBytes ?? 8 * 1024 * 1024 })
    const { rows } = await db.query<{ n: number }>('select count(*)::int as n from chunks')
    const results: CaseResult[] = []
    const modes = {} as Record<Mode, ModeMetrics>
    const k = Math.min(opts.k ?? MRR_DEPTH, MRR_DEPTH)
    for (const mode of MODES) {
      const docRanks: Array<number | null> = []
      const passRanks: Array<number | null> = []
      for (const c of opts.cases) {
        const hits = await search({ db, embedder: opts.embedder }, { query: c.question, k, mode, service: c.service, kind: c.kind })
        const d = rankOf(hits, c, 'document')
        const p = rankOf(hits, c, 'passage')
        docRanks.push(d)
        passRanks.push(p)
        results.push({ id: c.id, mode, documentRank: d, passageRank: p, top: hits.slice(0, 3).map((h) => ({ uri: h.sourceUri, headingPath: h.headingPath })) })
      }
      modes[mode] = { document: metrics(docRanks), passage: metrics(passRanks) }
    }
    return { cases: opts.cases.length, chunks: rows[0]!.n, embeddingModel: opts.embedder.id, modes, results, ingestMs: ingest.timings.total_ms ?? 0 }
  } finally {
    await db.close()
  }
}

export function formatRetrievalReport(r: RetrievalReport): string {
  const f = (x: number) => x.toFixed(3)
  const lines = [
    `retrieval eval: ${r.cases} cases, ${r.chunks} chunks, embeddings ${r.embeddingModel}`,
    'mode    | doc R@1 | doc R@5 | doc MRR | pass R@1 | pass R@5 | pass MRR',
    '--------|---------|---------|---------|----------|----------|---------',
    ...MODES.map((m) => {
      const x = r.modes[m]
      return `${m.padEnd(7)} | ${f(x.document.recall_at_1)}   | ${f(x.document.recall_at_5)}   | ${f(x.document.mrr)}   | ${f(x.passage.recall_at_1)}    | ${f(x.passage.recall_at_5)}    | ${f(x.passage.mrr)}`
    }),
  ]
  const misses = r.results.filter((x) => x.mode === 'hybrid' && (x.passageRank === null || x.passageRank > 5))
  if (misses.length) {
    lines.push('', 'hybrid passage misses (not in top 5):')
    for (const m of misses) lines.push(`  ${m.id}: doc rank ${m.documentRank ?? '-'}, passage rank ${m.passageRank ?? '-'}; top: ${m.top.map((t) => `${t.uri.split('/').filter(Boolean).pop()}#${t.headingPath.at(-1) ?? ''}`).join(' | ')}`)
  }
  return lines.join('\n')
}
