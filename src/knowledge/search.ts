import { z } from 'zod'
import type { Database, Queryable } from '../db/types.js'
import type { EmbeddingProvider } from './embeddings/types.js'
import { sqlLiteral } from './models.js'
import { idf, queryStats, type QueryLexeme, type QueryStats } from './termstats.js'
import { countFiltered, EXACT_MAX, nearestChunksParallel, type FilterCounts } from './vector.js'

// Hybrid retrieval: pgvector HNSW (cosine) and Postgres full text ranked with BM25, fused by a weighted sum of
// normalised scores (vectorWeightFor) with a share of reciprocal rank fusion (fuse). Filters (service/team/kind)
// rely on pgvector ≥ 0.8 iterative index scans so a filtered query still fills k.
//
// Full text: the GIN index over chunks.tsv finds candidates (a bounded set, see candidateQuery), and each is scored
// with BM25 over ALL the question's lexemes, using document frequencies from term_stats (termstats.ts; rebuilt at
// the end of ingestion runs). ts_rank_cd, used before, has no IDF: in an OR of a question's ten words the common
// ones ("service", "database") outweighed the rare one that identifies the passage.

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
    /** The fused score the hits are ordered by (named for reciprocal rank fusion, now a share of it; see fuse). */
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
  /** Weight of the vector ranker in the fusion, 0..1; default per embedder, see vectorWeightFor. */
  vectorWeight?: number
  /** Exponent of the vector ranker's length prior, 0..1; default per embedder, see lengthPriorFor. */
  lengthPrior?: number
}

/**
 * Fusion is a convex combination of the two rankers' normalised scores (Bruch et al., "An Analysis of Fusion
 * Functions for Hybrid Retrieval", 2023): fused = (1 − w) · bm25 / max bm25 + w · cos / max cos, each maximum
 * taken over that ranker's candidates, a missing score counting 0. Unlike reciprocal rank fusion it keeps how
 * far apart the scores are, so a chunk far ahead in BM25 is not overtaken by one that is merely second in both.
 * w = 0.2 for the local hashing embedder: a lexical model measurably weaker than BM25 at passage level
 * (external feed passage MRR 0.57 vs 0.75, demo corpus 0.47 vs 0.67), which equal-weight RRF (k 60) let drag
 * hybrid below full text alone (demo MRR 0.585 vs 0.674; RRF with k 5–60 and weights 0.3–0.5 measured worse
 * than this on both eval sets, and so did z-score and min-max normalisation). With the length prior
 * (lengthPriorFor): 0.15 → hybrid R@5 below full text on the external set, 0.25 → MRR below it on the demo
 * set; 0.2 is the one weight at or above both single rankers on both sets. 0.5 for any other (semantic) embedder.
 */
export function vectorWeightFor(embedderId: string, override?: number): number {
  const w = override ?? (embedderId.startsWith('local-hash') ? 0.2 : 0.5)
  return Math.min(1, Math.max(0, w))
}

/**
 * The vector ranker scores a chunk cos · len^p, len being the number of distinct lexemes of its tsv (BM25's
 * length, see termstats.ts), applied to the HNSW candidates. Cosine normalises length away completely, which for
 * a lexical hashing embedder over-rewards short chunks: a 150-character section made of the title words is
 * "closer" to a question naming the service than the 1,200-character section that answers it (the problem
 * pivoted length normalisation addresses for tf-idf, Singhal et al. 1996; BM25's b does the same for full
 * text). p = 0.3 for the local embedder, measured (evals, passage level, local-hash-v1, 1500-char chunks): vector
 * MRR demo 0.391 → 0.474 (R@5 0.60 → 0.74), external 0.583 → 0.571 (R@5 0.75 → 0.78); hybrid MRR demo 0.637 →
 * 0.677, above full text alone (0.674), which without it no fusion weight reached. 0.2 and 0.4 measured close.
 * 0 (plain cosine) for any other embedder: a semantic model has no such bias that we have measured.
 */
export function lengthPriorFor(embedderId: string, override?: number): number {
  const p = override ?? (embedderId.startsWith('local-hash') ? 0.3 : 0)
  return Math.min(1, Math.max(0, p))
}

/**
 * What search() would otherwise derive from the query text itself, for a caller that has it already (the term
 * statistics are one round trip, the embedding one provider call). Results are identical either way. Several
 * filters of one query are better served by searchMany, which computes them once itself.
 */
export interface PrecomputedQuery {
  /** queryStats(db, query) of the same query text. */
  stats?: QueryStats
  /** deps.embedder.embed([query])[0] of the same query text. */
  embedding?: number[]
}

/** The query's term statistics and embedding, once, for several searches of the same text (see PrecomputedQuery). */
export async function precomputeQuery(deps: Pick<SearchDeps, 'db' | 'embedder'>, query: string): Promise<PrecomputedQuery> {
  const text = SearchInput.shape.query.parse(query)
  const [stats, [embedding]] = await Promise.all([queryStats(deps.db, text), deps.embedder.embed([text])])
  return { stats, embedding }
}

export async function search(deps: SearchDeps, raw: SearchInput, pre: PrecomputedQuery = {}): Promise<SearchHit[]> {
  const input = SearchInput.parse(raw)
  const [hits] = await searchMany(deps, { query: input.query, mode: input.mode, filters: [{ k: input.k, service: input.service, team: input.team, kind: input.kind }] }, pre)
  return hits!
}

/** One query under several filters (an assessment's five evidence searches); each filter is one search() call. */
export const SearchManyInput = z.object({
  query: SearchInput.shape.query,
  mode: SearchInput.shape.mode,
  filters: z.array(SearchInput.pick({ k: true, service: true, team: true, kind: true })).min(1).max(20),
})
export type SearchManyInput = z.input<typeof SearchManyInput>

/**
 * search() of one query under several filters, with the same hits per filter as separate calls (up to the
 * full-text candidate cap, see bm25Many), at the cost of about one: one term-statistics lookup and one embedding,
 * one full-text statement scoring the union of the filters' candidates once, the filters' graph walks and exact
 * scans in one vector statement (nearestChunksMany) or, on Postgres, two side by side (nearestChunksParallel), one
 * hydration. Five separate searches were 15 transactions and ~50 round trips per assessment.
 */
export async function searchMany(deps: SearchDeps, raw: SearchManyInput, pre: PrecomputedQuery = {}): Promise<SearchHit[][]> {
  const input = SearchManyInput.parse(raw)
  const model = { id: deps.embedder.id, dim: deps.embedder.dim }
  const filters = input.filters.map((f) => ({ ...f, pool: Math.max(f.k * 4, 40) }))
  const wantVector = input.mode !== 'fts'
  const wantFts = input.mode !== 'vector'

  // The two rankers run concurrently, each in its own transaction (for its SET LOCALs): on Postgres on two
  // pooled connections, so hybrid costs about the slower of the two rather than their sum; PGlite, a single
  // connection, runs them one after the other.
  // Rows per filter (service/team filters only) decide each ranker's path: an exact scan of a filter's few rows,
  // or the shared index search. Counted once for both, while the query's statistics and embedding are computed.
  const countsTask = countFiltered(deps.db, model, filters)
  const ftsTask = wantFts
    ? Promise.all([pre.stats ? Promise.resolve(pre.stats) : queryStats(deps.db, input.query), countsTask]).then(([stats, counts]) =>
        deps.db.transaction((tx) => bm25Many(tx, model.id, filters, stats, counts, !wantVector)),
      )
    : Promise.resolve(filters.map(() => new Map<number, { rank: number; score: number }>()))
  const vectorTask = wantVector
    ? Promise.all([pre.embedding ? Promise.resolve([pre.embedding]) : deps.embedder.embed([input.query]), countsTask]).then(([[vec], counts]) =>
        vectorSearchMany(deps, model, filters, vec!, counts),
      )
    : Promise.resolve(filters.map(() => new Map<number, VectorScore>()))
  const [ftsRanks, vectorRanks] = await Promise.all([ftsTask, vectorTask])

  const w = vectorWeightFor(model.id, deps.vectorWeight)
  const tops = filters.map((f, i) =>
    [...fuse(ftsRanks[i]!, vectorRanks[i]!, w).entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, f.k),
  )
  const ids = [...new Set(tops.flatMap((top) => top.map(([id]) => id)))]
  if (ids.length === 0) return filters.map(() => [])

  const { rows } = await deps.db.query<{
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
    [ids],
  )
  const byId = new Map(rows.map((r) => [r.id, r]))
  const terms = queryTerms(input.query)
  return tops.map((top, i) =>
    top.flatMap(([id, rrf]) => {
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
          scores: { rrf, vector: vectorScore(vectorRanks[i]!.get(id)), fts: ftsRanks[i]!.get(id) ?? null },
        },
      ]
    }),
  )
}

/**
 * Share of the fused score given to weighted reciprocal rank fusion, and its k (see fuse). Measured (evals,
 * passage level, hybrid R@1/R@5/MRR; machine loaded, figures deterministic): share 0 (score fusion alone)
 * external .625/.906/.760, demo .580/.900/.697; 0.2 with k 10 → external .656/.906/.777, demo .580/.900/.699.
 * A plateau, not a spike: shares 0.1–0.3 with k 5–20 all gave external MRR .777–.781 and demo .697–.701; k 1–2
 * or share 0.5 raised external MRR further (.79) but cost demo (.692). Measured and dropped with it: a bonus for
 * either ranker's top 1–3 (external R@5 up to .94–.97, but its MRR down to .67–.757, demo's to .575–.699), CombMNZ
 * (×1.1–1.3 when both rankers found a chunk: external R@5 down to .875), a per-query vector weight from how
 * flat each ranker's top 3–10 scores are (no gain on either set), and RM3 pseudo-relevance feedback for full
 * text (top 3–5 fused chunks, 5–20 terms by BM25 weight, weight 0.2–0.5: external hybrid MRR .71–.757, demo
 * .676–.695, except 5 terms at demo .724 with external .736).
 */
const RRF_SHARE = 0.2
const RRF_K = 10

/**
 * The ranking the hits are ordered by: (1 − RRF_SHARE) · the convex combination of normalised scores
 * (vectorWeightFor) + RRF_SHARE · weighted reciprocal rank fusion, w / (k + vector rank) + (1 − w) / (k + full-text
 * rank), scaled so its best candidate has 1. The scores keep how far apart candidates are, so a large lead in
 * either ranker still decides; the ranks decide between candidates whose scores are nearly level (common with a
 * flat BM25 top), in favour of the one placed higher in both lists. A single mode (one map empty) is that
 * ranker's own score order. What it changed in the evals is small: 3 cases up a rank or more, 2 down by 1–2.
 */
export function fuse(fts: Map<number, { rank: number; score: number }>, vec: Map<number, VectorScore>, w: number): Map<number, number> {
  const fused = new Map<number, number>()
  const wv = fts.size === 0 ? 1 : vec.size === 0 ? 0 : w
  const maxCos = Math.max(0, ...[...vec.values()].map((r) => r.score))
  const maxBm25 = Math.max(0, ...[...fts.values()].map((r) => r.score))
  for (const [id, r] of vec) fused.set(id, (fused.get(id) ?? 0) + (maxCos > 0 ? (wv * r.score) / maxCos : 0))
  for (const [id, r] of fts) fused.set(id, (fused.get(id) ?? 0) + (maxBm25 > 0 ? ((1 - wv) * r.score) / maxBm25 : 0))
  if (fts.size === 0 || vec.size === 0) return fused
  const rrf = new Map<number, number>()
  for (const id of fused.keys()) {
    const v = vec.get(id)
    const f = fts.get(id)
    rrf.set(id, (v ? wv / (RRF_K + v.rank) : 0) + (f ? (1 - wv) / (RRF_K + f.rank) : 0))
  }
  const maxRrf = Math.max(0, ...rrf.values())
  for (const [id, s] of fused) fused.set(id, (1 - RRF_SHARE) * s + (maxRrf > 0 ? (RRF_SHARE * rrf.get(id)!) / maxRrf : 0))
  return fused
}

export interface VectorScore {
  rank: number
  /** Cosine similarity to the query. */
  similarity: number
  /** What the ranker orders by: similarity with the length prior. */
  score: number
}

/** The vector ranking of each filter: nearestChunksParallel, then the length prior. */
async function vectorSearchMany(
  deps: SearchDeps,
  model: { id: string; dim: number },
  filters: ReadonlyArray<SearchFilter>,
  vec: number[],
  counts: FilterCounts,
): Promise<Array<Map<number, VectorScore>>> {
  // The graph walks (CPU-bound, ~3–4 ms each at 100k chunks) go over two connections, beside the full-text one,
  // when each gets two or more (nearestChunksParallel). Measured at 100k chunks, the 82 eval questions × 3, unfiltered hybrid search(), shared
  // memory in huge pages, 2 cores, two interleaved runs each: p50/p95 22.9/35.3 and 22.6/35.7 ms in one statement,
  // 19.9/29.4 and 20.9/30.9 over two connections (a prototype over three: no better than two). Before huge pages,
  // two connections were measured no faster.
  const queries = filters.map((f) => ({ filter: { kind: f.kind, service: f.service, team: f.team }, limit: f.pool }))
  const results = await nearestChunksParallel(deps.db, { model, vec, efSearch: deps.efSearch, queries, counts })
  // Length prior (lengthPriorFor), then the ranks; ties keep the exact distance order.
  const prior = lengthPriorFor(model.id, deps.lengthPrior)
  return results.map(({ rows }) => {
    const scored = rows.map((r) => ({ id: r.id, similarity: 1 - r.distance, score: (1 - r.distance) * Math.max(1, r.len) ** prior }))
    scored.sort((a, b) => b.score - a.score || a.id - b.id)
    return new Map(scored.map((r, i) => [r.id, { rank: i + 1, similarity: r.similarity, score: r.score }]))
  })
}

/** One filter of searchMany, with its candidate pool size (max(k·4, 40): what fusion sees from each ranker). */
interface SearchFilter {
  k: number
  pool: number
  kind?: z.infer<typeof SourceKindSchema>
  service?: string
  team?: string
}

const vectorScore = (v: VectorScore | undefined) => (v ? { rank: v.rank, similarity: v.similarity } : null)

/** Content words of a free-text question (identifiers like lock_timeout or v2026.11.3 stay whole). */
export function queryTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}_.:/-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu) ?? []
  return [...new Set(words.filter((w) => w.length > 1))]
}

/**
 * Questions are long and natural: requiring every word (websearch's default AND) finds nothing.
 * OR the quoted terms instead. (search() no longer uses this: it matches Postgres' own lexemes of the question.)
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

/**
 * BM25 parameters: the usual defaults (Robertson & Zaragoza); 0.9/0.4 or 1.6/0.9 measured no better here.
 * Measured and dropped: BM25F with the document context (title and lede, see LEDE_CONTEXT_CHARS) as a field of its
 * own (tsv weight A, the passage and its headings weight D; per-field tf normalisation, context weight 0.5–2,
 * context b 0 or 0.75), so every chunk of a document gets the same context score and the passage alone decides
 * between them: hybrid passage MRR external .729–.776 (.777 now), demo .692–.727 (.699 now). No setting gained on both.
 */
const BM25_K1 = 1.2
const BM25_B = 0.75
/** Estimated candidate rows (summed document frequencies) the full-text match aims for; see candidateQuery. At
 *  ~8–10 µs per scored candidate on Postgres at 100k chunks, about 10 ms. Below ~1,000 chunks nothing is left out. */
const CANDIDATE_BUDGET = 1000
const CANDIDATE_MIN = 200
/**
 * Hard cap on the candidate rows of the estimated part of the match (pairs, a last-resort common word: see
 * CandidateQuery), for when the independence estimate of a pair is far off (words of one topic co-occur: 3,900
 * rows for an estimate under 1,000 at 100k synthetic chunks). Past it that part is cut in table order, which
 * favours old chunks; the rare single words are read whole (their counts are exact), so a new document matching
 * them is never cut. Latency stays bounded. Never reached below CANDIDATE_CAP chunks in total.
 * CANDIDATE_BUDGET rather than twice it: measured at 100k chunks on the 36 demo alerts' evidence retrieval
 * (five filters each), against the same search uncut: 2,000 → 33/36 packs identical, 307/312 items shared;
 * 1,000 → 32/36, 306/312; retrieval p95 45 → 39–41 ms (p50 unchanged, ~24 ms), the tail being the alerts whose
 * pairs matched 1,000+ rows (BM25 costs ~10 µs a candidate).
 */
const CANDIDATE_CAP = CANDIDATE_BUDGET
/** Pairs are formed among this many of the query's rarest remaining lexemes; at most MAX_PAIRS are used (GIN
 *  evaluates an AND/OR mix item by item over the union of the posting lists involved, so each costs CPU). */
const PAIR_TERMS = 4
const MAX_PAIRS = 3

/**
 * The GIN match that forms the candidate set, as tsquery text. Every candidate costs a heap fetch and a tsvector
 * decompression, and an OR of all of a question's words matches a large share of a big corpus through its
 * commonest words ("service", "error"), which carry almost no BM25 weight anyway. So:
 *  1. single lexemes, rarest first, while their summed document frequencies stay within CANDIDATE_BUDGET rows;
 *  2. if that covers fewer than CANDIDATE_MIN rows (every remaining word is common), up to MAX_PAIRS pairs of
 *     the rarest remaining words that must co-occur, cheapest first (df_a·df_b/N, assuming independence) — a
 *     chunk matching just one very common word could only rank low anyway;
 *  3. if still short (a one-word query), the rarest remaining word whatever its frequency.
 * Every query lexeme still scores every candidate; the choice only bounds which rows are read. Without
 * statistics (never refreshed), all lexemes OR-ed. `narrowed` says whether any lexeme was left out.
 */
export interface CandidateQuery {
  /** Every chosen part OR-ed (tsquery text). */
  match: string
  /** Whether any lexeme was left out. */
  narrowed: boolean
  /**
   * The rare single lexemes, whose summed document frequencies (exact counts from term_stats) stay within the
   * budget: read whole, never cut. null when there are none.
   */
  exact: string | null
  /** The rest (co-occurring pairs, a common last-resort word, or everything without statistics): a count only
   *  estimated, so cut at the candidate cap. null when there is none. */
  capped: string | null
}

export function candidateQuery(lexemes: readonly QueryLexeme[], n: number): CandidateQuery {
  const everything = lexemeQuery(lexemes.map((l) => l.lexeme))
  if (n === 0) return { match: everything, narrowed: false, exact: null, capped: everything }
  const byDf = [...lexemes].sort((a, b) => a.df - b.df || (a.lexeme < b.lexeme ? -1 : 1))
  const singles: string[] = []
  const rest: string[] = []
  let est = 0
  let i = 0
  for (; i < byDf.length && est + byDf[i]!.df <= CANDIDATE_BUDGET; i++) {
    est += byDf[i]!.df
    singles.push(quoteLexeme(byDf[i]!.lexeme))
  }
  if (est < CANDIDATE_MIN) {
    // A hyphenated word's parts always co-occur with it and with each other: no narrowing pair among them.
    const common = byDf.slice(i).filter((l) => !l.part).slice(0, PAIR_TERMS)
    const pairs: Array<{ a: string; b: string; est: number }> = []
    for (let x = 0; x < common.length; x++) {
      for (let y = x + 1; y < common.length; y++) pairs.push({ a: common[x]!.lexeme, b: common[y]!.lexeme, est: (common[x]!.df * common[y]!.df) / n })
    }
    pairs.sort((p, q) => p.est - q.est)
    for (const p of pairs.slice(0, MAX_PAIRS)) {
      if (est >= CANDIDATE_MIN && est + p.est > CANDIDATE_BUDGET) break
      est += p.est
      rest.push(`(${quoteLexeme(p.a)} & ${quoteLexeme(p.b)})`)
    }
  }
  if (est < CANDIDATE_MIN && i < byDf.length) rest.push(quoteLexeme(byDf[i++]!.lexeme))
  const exact = singles.length ? singles.join(' | ') : null
  // Every lexeme OR-ed in on its own: nothing left out (pairs are then subsumed).
  if (i === byDf.length) return { match: everything, narrowed: false, exact, capped: rest.length ? rest.filter((r) => !r.startsWith('(')).join(' | ') || null : null }
  return { match: [...singles, ...rest].join(' | '), narrowed: true, exact, capped: rest.length ? rest.join(' | ') : null }
}

const quoteLexeme = (l: string) => `'${l.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`

/** A tsquery OR-ing already-normalised lexemes (quoted, so they are not parsed or stemmed again). */
function lexemeQuery(lexemes: string[]): string {
  return lexemes.map(quoteLexeme).join(' | ')
}

/**
 * The full-text ranking of each filter: its candidates' BM25 ranks (top `pool`).
 *  - A filter passing few rows (counts: ≤ EXACT_MAX, e.g. one service's runbooks) scores every one of them that
 *    holds any query word, read through the btree filter index, never the GIN index: an OR of all of a question's
 *    words matches most of a large corpus (75k of 100k chunks), and the planner still ANDed that bitmap with the
 *    btree's 15 rows (30 ms for nothing). Exact, and no narrowing to widen afterwards.
 *  - The other filters share one GIN search (candidateQuery) scoring the union of their candidates once;
 *    conjuncts shared by all of them stay in SQL, the rest is applied here. A filter's list is what a statement
 *    of its own would return, unless the union passes the candidate cap.
 */
async function bm25Many(
  tx: Queryable,
  modelId: string,
  filters: ReadonlyArray<SearchFilter>,
  stats: QueryStats,
  counts: FilterCounts,
  /** Whether full text alone must fill each filter's k (full-text mode: no vector ranker to fill it). */
  fill: boolean,
): Promise<Array<Map<number, { rank: number; score: number }>>> {
  const out = filters.map(() => new Map<number, { rank: number; score: number }>())
  const { lexemes, corpus } = stats
  if (lexemes.length === 0) return out
  const n = corpus ? Math.max(corpus.chunks, ...lexemes.map((l) => l.df)) : 0
  const terms = lexemes.map((l) => ({ lexeme: l.lexeme, idf: corpus ? idf(l.df, n) : 1 }))
  const norm = { avgLen: corpus && corpus.avgLen > 0 ? corpus.avgLen : 1, b: corpus ? BM25_B : 0 }
  const everyWord = lexemeQuery(lexemes.map((l) => l.lexeme))
  // The candidate set is bounded (candidateQuery), so reading it through the GIN index is always right; the
  // planner's estimate for an OR of lexemes sometimes picks a sequential scan of the whole table instead. JIT
  // off: that penalty (1e10) lifts the plan's cost past jit_above_cost, and compiling costs far more than this
  // statement's few milliseconds.
  await tx.query(`select set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`)
  const matches = (f: Partial<SearchFilter>) => (r: { kind: string; service: string | null; team: string | null }) =>
    (f.kind === undefined || r.kind === f.kind) && (f.service === undefined || r.service === f.service) && (f.team === undefined || r.team === f.team)
  const small = filters.map((_, i) => {
    const c = counts[i]
    return c !== null && c !== undefined && Object.values(c).reduce((a, b) => a + b, 0) <= EXACT_MAX
  })

  const few = filters.filter((_, i) => small[i])
  if (few.length) {
    const params: unknown[] = []
    const where = `c.embedding_model = ${sqlLiteral(modelId)} and (${few.map((f) => `(${filterSql(f, params, false)})`).join(' or ')})`
    const rows = await bm25Rows(tx, where, params, terms, { exact: everyWord, capped: null }, norm, null, EXACT_MAX * few.length, true)
    for (const [i, f] of filters.entries()) if (small[i]) rank(out[i]!, rows.filter(matches(f)).slice(0, f.pool))
  }

  const many = filters.filter((_, i) => !small[i])
  if (many.length === 0) return out
  const cq = candidateQuery(lexemes, n)
  const same = <K extends 'kind' | 'service' | 'team'>(key: K) => (many.every((f) => f[key] !== undefined && f[key] === many[0]![key]) ? many[0]![key] : undefined)
  const params: unknown[] = []
  let where = `c.embedding_model = ${sqlLiteral(modelId)}${andSql(filterSql({ kind: same('kind'), service: same('service'), team: same('team') }, params, true))}`
  const kinds = [...new Set(many.map((f) => f.kind))]
  if (!kinds.includes(undefined) && kinds.length > 1) where += ` and (c.kind || '') = any($${params.push(kinds)}::text[])`
  const single = many.length === 1
  const rows = await bm25Rows(tx, where, params, terms, cq, norm, single ? many[0]!.pool : null, CANDIDATE_CAP)
  for (const [i, f] of filters.entries()) {
    if (small[i]) continue
    let ranked = single ? rows : rows.filter(matches(f)).slice(0, f.pool)
    // Too few to fill k (e.g. a team filter excluding every chunk with the rare words): widen to every word, in
    // full-text mode only. In hybrid the vector ranker fills k anyway, and the widened match is the costliest
    // statement here (an OR of every word: 70k of 100k chunks, cut at the cap in table order, 80 ms) for chunks
    // sharing only common words with the query, which BM25 ranks low anyway.
    if (ranked.length < f.k && cq.narrowed && fill) {
      const p: unknown[] = []
      ranked = await bm25Rows(tx, `c.embedding_model = ${sqlLiteral(modelId)}${andSql(filterSql(f, p, true))}`, p, terms, { exact: null, capped: everyWord }, norm, f.pool, CANDIDATE_CAP)
    }
    rank(out[i]!, ranked)
  }
  return out
}

const rank = (into: Map<number, { rank: number; score: number }>, rows: ReadonlyArray<{ id: number; score: number }>) =>
  rows.forEach((r, i) => into.set(r.id, { rank: i + 1, score: r.score }))

const andSql = (sql: string) => (sql ? ` and ${sql}` : '')

/**
 * A filter's conjuncts over `chunks c`, values bound into `params`. With `opaqueKind` the kind is compared through
 * an expression no index matches: next to a GIN search, a kind (a quarter of the corpus or more) is never worth
 * its own bitmap from the (service, kind) btree (11 ms for 75k rows at 100k chunks); it is checked on the rows.
 */
function filterSql(f: Partial<SearchFilter>, params: unknown[], opaqueKind: boolean): string {
  const bind = (v: unknown) => `$${params.push(v)}`
  return [
    ...(f.service !== undefined ? [`c.service = ${bind(f.service)}`] : []),
    ...(f.team !== undefined ? [`c.team = ${bind(f.team)}`] : []),
    ...(f.kind !== undefined ? [opaqueKind ? `(c.kind || '') = ${bind(f.kind)}` : `c.kind = ${bind(f.kind)}`] : []),
  ].join(' and ')
}

/**
 * BM25 (k1, b) of the chunks matching `match`, over all query terms. Document length is the number of distinct
 * lexemes of the chunk's tsv (see termstats.ts). The tsv is read once per candidate: its length, and the part of
 * it holding the query's lexemes (setweight marks them, ts_filter keeps them) whose position counts are the tfs.
 */
async function bm25Rows(
  tx: Queryable,
  where: string,
  params: unknown[],
  terms: Array<{ lexeme: string; idf: number }>,
  /** tsquery texts: `exact` rows are all read, `capped` ones (not already matched by `exact`) cut at `cap`. */
  match: { exact: string | null; capped: string | null },
  norm: { avgLen: number; b: number },
  /** Rows returned, best first; null = every candidate (searchMany splits them between its filters). */
  pool: number | null,
  cap: number,
  /** Read the rows passing `where` first (btree), then match them: for a few rows, never through the GIN index. */
  fenced = false,
): Promise<Array<{ id: number; score: number; kind: string; service: string | null; team: string | null }>> {
  const p = [...params]
  const L = `$${p.push(terms.map((t) => t.lexeme))}::text[]`
  const W = `$${p.push(terms.map((t) => t.idf))}::float8[]`
  const exact = match.exact === null ? null : `$${p.push(match.exact)}::tsquery`
  const capped = match.capped === null ? null : `$${p.push(match.capped)}::tsquery`
  const lim = pool === null ? '' : `limit $${p.push(pool)}`
  const { b, avgLen } = norm
  const from = fenced ? `(select c.id, c.kind, c.service, c.team, c.tsv from chunks c where ${where} offset 0) c where` : `chunks c where ${where} and`
  const cols = `c.id, c.kind, c.service, c.team, length(c.tsv) as len, ts_filter(setweight(c.tsv, 'A', ${L}), '{a}') as m`
  const branches = [
    ...(exact ? [`(select ${cols} from ${from} c.tsv @@ ${exact} limit ${Math.trunc(cap)})`] : []),
    ...(capped ? [`(select ${cols} from ${from} c.tsv @@ ${capped}${exact ? ` and not (c.tsv @@ ${exact})` : ''} limit ${Math.trunc(cap)})`] : []),
  ]
  if (branches.length === 0) return []
  const { rows } = await tx.query<{ id: number; score: number; kind: string; service: string | null; team: string | null }>(
    `with cand as materialized (${branches.join(' union all ')})
     select cand.id, cand.kind, cand.service, cand.team,
       (select sum((${W})[array_position(${L}, u.lexeme)] * u.tf * ${BM25_K1 + 1} / (u.tf + ${BM25_K1} * (${1 - b} + ${b} * cand.len / ${avgLen}::float8)))
        from (select lexeme, coalesce(array_length(positions, 1), 1) as tf from unnest(cand.m)) u)::float8 as score
     from cand order by score desc, cand.id ${lim}`,
    p,
  )
  return rows
}
