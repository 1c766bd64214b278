import { z } from 'zod'
import type { Database } from '../db/types.js'
import type { EmbeddingProvider } from './embeddings/types.js'
import { sqlLiteral, toVectorLiteral, vectorExpr } from './models.js'

// Hybrid retrieval: pgvector HNSW (cosine) and Postgres full text, fused with reciprocal rank fusion.
// Filters (service/team/kind) rely on pgvector ≥ 0.8 iterative index scans so a filtered query still fills k.

export const SourceKindSchema = z.enum(['runbook', 'case_study', 'telemetry', 'doc'])

export const SearchInput = z.object({
  query: z.string().trim().min(1).max(2000),
  k: z.number().int().min(1).max(50).default(5),
  service: z.string().min(1).max(200).optional(),
  team: z.string().min(1).max(200).optional(),
  kind: SourceKindSchema.optional(),
  mode: z.enum(['hybrid', 'fts', 'vector']).default('hybrid'),
})
export type SearchInput = z.input<typeof SearchInput>

export const SearchHit = z.object({
  chunkId: z.number().int(),
  sourceUri: z.string(),
  title: z.string(),
  kind: SourceKindSchema,
  service: z.string().nullable(),
  team: z.string().nullable(),
  headingPath: z.array(z.string()),
  snippet: z.string(),
  text: z.string(),
  contentHash: z.string(),
  scores: z.object({
    rrf: z.number(),
    vector: z.object({ rank: z.number().int(), similarity: z.number() }).nullable(),
    fts: z.object({ rank: z.number().int(), score: z.number() }).nullable(),
  }),
})
export type SearchHit = z.infer<typeof SearchHit>

export interface SearchDeps {
  db: Database
  embedder: EmbeddingProvider
  /** HNSW candidate list size; see bench:retrieval for the recall/latency trade-off. */
  efSearch?: number
}

/** RRF constant: 60 is the value from Cormack et al. and dampens the influence of any single ranker's top hit. */
const RRF_K = 60

export async function search(deps: SearchDeps, raw: SearchInput): Promise<SearchHit[]> {
  const input = SearchInput.parse(raw)
  const model = { id: deps.embedder.id, dim: deps.embedder.dim }
  const pool = Math.max(input.k * 4, 40)
  const wantVector = input.mode !== 'fts'
  const wantFts = input.mode !== 'vector'
  const vec = wantVector ? (await deps.embedder.embed([input.query]))[0]! : null
  const ftsQuery = wantFts ? toWebsearchQuery(input.query) : ''

  return deps.db.transaction(async (tx) => {
    const filters: string[] = [`c.embedding_model = ${sqlLiteral(model.id)}`]
    const params: unknown[] = []
    const bind = (v: unknown) => `$${params.push(v)}`
    if (input.service) filters.push(`c.service = ${bind(input.service)}`)
    if (input.team) filters.push(`c.team = ${bind(input.team)}`)
    if (input.kind) filters.push(`c.kind = ${bind(input.kind)}`)
    const where = filters.join(' and ')

    const vectorRanks = new Map<number, { rank: number; similarity: number }>()
    if (vec) {
      await tx.query(`set local hnsw.ef_search = ${Math.trunc(deps.efSearch ?? 100)}`)
      await tx.query('set local hnsw.iterative_scan = relaxed_order')
      const p = [...params]
      const qv = `$${p.push(toVectorLiteral(vec))}::vector(${model.dim})`
      const lim = `$${p.push(pool)}`
      const expr = vectorExpr(model)
      // Relaxed ordering can return slightly out-of-order rows: materialize, then re-sort exactly.
      const { rows } = await tx.query<{ id: number; distance: number }>(
        `with v as materialized (
           select c.id, ${expr} <=> ${qv} as distance from chunks c where ${where}
           order by ${expr} <=> ${qv} limit ${lim})
         select id, distance from v order by distance, id`,
        p,
      )
      rows.forEach((r, i) => vectorRanks.set(r.id, { rank: i + 1, similarity: 1 - r.distance }))
    }

    const ftsRanks = new Map<number, { rank: number; score: number }>()
    if (ftsQuery) {
      const p = [...params]
      const tq = `websearch_to_tsquery('english', $${p.push(ftsQuery)})`
      const lim = `$${p.push(pool)}`
      // Normalization 1 divides by 1 + log(length), so long passages don't win on term count alone.
      const { rows } = await tx.query<{ id: number; score: number }>(
        `select c.id, ts_rank_cd(c.tsv, q, 1) as score from chunks c, ${tq} q
         where ${where} and c.tsv @@ q order by score desc, c.id limit ${lim}`,
        p,
      )
      rows.forEach((r, i) => ftsRanks.set(r.id, { rank: i + 1, score: r.score }))
    }

    const fused = new Map<number, number>()
    for (const [id, r] of vectorRanks) fused.set(id, (fused.get(id) ?? 0) + 1 / (RRF_K + r.rank))
    for (const [id, r] of ftsRanks) fused.set(id, (fused.get(id) ?? 0) + 1 / (RRF_K + r.rank))
    const top = [...fused.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, input.k)
    if (top.length === 0) return []

    const { rows } = await tx.query<{
      id: number
      heading_path: string[]
      text: string
      content_hash: string
      kind: SearchHit['kind']
      service: string | null
      team: string | null
      uri: string
      title: string
    }>(
      `select c.id, c.heading_path, c.text, c.content_hash, c.kind, c.service, c.team, s.uri, s.title
       from chunks c join sources s on s.id = c.source_id where c.id = any($1::bigint[])`,
      [top.map(([id]) => id)],
    )
    const byId = new Map(rows.map((r) => [r.id, r]))
    const terms = queryTerms(input.query)
    return top.flatMap(([id, rrf]) => {
      const r = byId.get(id)
      if (!r) return []
      return [
        {
          chunkId: id,
          sourceUri: r.uri,
          title: r.title,
          kind: r.kind,
          service: r.service,
          team: r.team,
          headingPath: r.heading_path,
          snippet: snippet(r.text, terms),
          text: r.text,
          contentHash: r.content_hash,
          scores: { rrf, vector: vectorRanks.get(id) ?? null, fts: ftsRanks.get(id) ?? null },
        },
      ]
    })
  })
}

/** Content words of a free-text question (identifiers like lock_timeout or v2026.11.3 stay whole). */
export function queryTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}_.:/-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu) ?? []
  return [...new Set(words.filter((w) => w.length > 1))]
}

/**
 * Questions are long and natural: requiring every word (websearch's default AND) finds nothing.
 * OR the quoted terms instead and let ts_rank_cd reward passages that cover more of them.
 */
export function toWebsearchQuery(text: string): string {
  return queryTerms(text)
    .map((t) => `"${t.replace(/"/g, '')}"`)
    .join(' or ')
}

function snippet(text: string, terms: string[], width = 240): string {
  const lower = text.toLowerCase()
  let at = -1
  for (const t of terms) {
    if (t.length < 4) continue
    const i = lower.indexOf(t)
    if (i >= 0 && (at < 0 || i < at)) at = i
  }
  const start = Math.max(0, at < 0 ? 0 : at - 60)
  const body = text.slice(start, start + width).replace(/\s+/g, ' ').trim()
  return `${start > 0 ? '…' : ''}${body}${start + width < text.length ? '…' : ''}`
}
