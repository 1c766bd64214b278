import type { Queryable } from '../db/types.js'
import { INDEXED_KINDS, kindIndexPredicate, toVectorLiteral, vectorExpr, type IndexedKind } from './models.js'

// The vector ranker's candidate query: the chunks nearest a query vector under a filter. Kept apart from the
// fusion in search.ts because it is what the index parameters, ef_search and the filtered-search strategy tune,
// and what bench:retrieval measures against exact search.
//
// Chunks of each kind live in their own HNSW graph (models.ts), and each kind is searched on its own, then
// merged. Per kind, one of two paths, chosen per query by how many of the kind's chunks pass the filter:
//  - few (≤ EXACT_MAX, e.g. one service's runbooks): an exact scan of exactly those rows through the btree
//    filter index. 100% recall, and cheaper than the graph walk: with a selective filter pgvector's iterative
//    scan visits many non-matching nodes per match, and may stop short of the limit (hnsw.max_scan_tuples). A
//    kind no chunk passes costs nothing more.
//  - many: the kind's graph, with the rest of the filter (service, team) applied during the scan.
// A kind filter in the caller's predicate (`c.kind = $n`) contradicts the literal kind of the other branches,
// which the planner then drops at plan time (one-time filter false): a kind-filtered search reads one kind.

/**
 * The exact path's ceiling. Reading a chunk's vector means a TOAST fetch (2 KB, stored out of line), ~5–10 µs
 * each on Postgres 15 at 100k chunks; bench:retrieval's filtered rows compare both paths.
 */
export const EXACT_MAX = 1000

export interface NearestChunksInput {
  model: { id: string; dim: number }
  /** SQL predicate over `chunks c` (search.ts builds it; values bound through `params`). */
  where: string
  params: unknown[]
  vec: number[]
  limit: number
  /** HNSW candidate list size, per kind graph; see bench:retrieval for the recall/latency trade-off. */
  efSearch?: number
}

export interface NearestChunk {
  id: number
  /** Cosine distance to the query vector. */
  distance: number
  /** Distinct lexemes of the chunk (its tsv length), for the length prior. */
  len: number
}

export type VectorPath = 'exact' | 'hnsw' | 'mixed' | 'none'

export async function nearestChunks(tx: Queryable, input: NearestChunksInput): Promise<NearestChunk[]> {
  return (await nearestChunksWithPath(tx, input)).rows
}

/** nearestChunks, also saying which path answered (tests and bench:retrieval report it). */
export async function nearestChunksWithPath(tx: Queryable, input: NearestChunksInput): Promise<{ path: VectorPath; rows: NearestChunk[] }> {
  const kindPred = (kind: IndexedKind) => kindIndexPredicate(input.model, kind, 'c.')
  // Per kind, counting stops at EXACT_MAX + 1 rows: through the (service, kind) btree for a service filter, a
  // short sequential read otherwise (a kind alone matches a large share of rows, found quickly).
  const { rows: counted } = await tx.query<Record<IndexedKind, number>>(
    `select ${INDEXED_KINDS.map((k) => `(select count(*)::int from (select 1 from chunks c where ${input.where} and ${kindPred(k)} limit ${EXACT_MAX + 1}) f) as ${k}`).join(', ')}`,
    input.params,
  )
  const exact = INDEXED_KINDS.filter((k) => (counted[0]?.[k] ?? 0) > 0 && counted[0]![k] <= EXACT_MAX)
  const graph = INDEXED_KINDS.filter((k) => (counted[0]?.[k] ?? 0) > EXACT_MAX)
  if (exact.length + graph.length === 0) return { path: 'none', rows: [] }

  const p = [...input.params]
  const qv = `$${p.push(toVectorLiteral(input.vec))}::vector(${Math.trunc(input.model.dim)})`
  const lim = `$${p.push(input.limit)}`
  const expr = vectorExpr(input.model)
  const cols = `c.id, ${expr} <=> ${qv} as distance, length(c.tsv) as len`
  // OFFSET 0 keeps the subquery apart, unordered, so the planner cannot answer it with an (approximate) index scan.
  const exactBranch = (k: IndexedKind) =>
    `(select * from (select ${cols} from chunks c where ${input.where} and ${kindPred(k)} offset 0) e order by distance, id limit ${lim})`
  const graphBranch = (k: IndexedKind) => `(select ${cols} from chunks c where ${input.where} and ${kindPred(k)} order by ${expr} <=> ${qv} limit ${lim})`
  if (graph.length) {
    await tx.query(`set local hnsw.ef_search = ${Math.trunc(input.efSearch ?? 100)}`)
    // The rest of the filter (service/team) still fills the limit: pgvector >= 0.8 keeps scanning the graph.
    await tx.query('set local hnsw.iterative_scan = relaxed_order')
  }
  // Relaxed ordering can return slightly out-of-order rows: materialize, then re-sort exactly.
  const { rows } = await tx.query<NearestChunk>(
    `with v as materialized (${[...exact.map(exactBranch), ...graph.map(graphBranch)].join('\n union all\n')})
     select id, distance, len from v order by distance, id limit ${lim}`,
    p,
  )
  return { path: graph.length === 0 ? 'exact' : exact.length === 0 ? 'hnsw' : 'mixed', rows }
}
