import type { Queryable } from '../db/types.js'
import { INDEXED_KINDS, kindIndexPredicate, toVectorLiteral, vectorExpr, type IndexedKind } from './models.js'

// The vector ranker's candidate query: the chunks nearest a query vector under a filter. Kept apart from the
// fusion in search.ts because it is what the index parameters, ef_search and the filtered-search strategy tune,
// and what bench:retrieval measures against exact search.
//
// Chunks of each kind live in their own HNSW graph (models.ts), and each kind is searched on its own, then
// merged. Per kind, one of two paths, chosen per query by how many of the kind's chunks pass the filter:
//  - few (≤ EXACT_MAX over all kinds, e.g. one service's runbooks): an exact scan of exactly those rows through the btree
//    filter index. 100% recall, and cheaper than the graph walk: with a selective filter pgvector's iterative
//    scan visits many non-matching nodes per match, and may stop short of the limit (hnsw.max_scan_tuples). A
//    kind no chunk passes costs nothing more.
//  - many: the kind's graph, with the rest of the filter (service, team) applied during the scan.
// A kind filter in the caller's predicate (`c.kind = $n`) contradicts the literal kind of the other branches,
// which the planner then drops at plan time (one-time filter false): a kind-filtered search reads one kind.

/**
 * The exact path's ceiling, in rows over all kinds of one query. Reading a chunk's vector means a TOAST fetch
 * (2 KB, stored out of line): 10–25 µs a row on this loaded 2-core machine (Postgres 15, 100k chunks), so
 * 500 rows cost about one HNSW walk of a kind's graph at ef_search 100 (bench:retrieval, filtered rows).
 */
export const EXACT_MAX = 500

/**
 * hnsw.ef_search per kind graph when the caller sets none (and WARDEN_HNSW_EF_SEARCH's default). Measured at
 * 100k chunks (25k per kind, m 32 / ef_construction 200; load ~9 on 2 cores): recall@10 vs exact within a kind
 * 0.80 / 0.90 / 0.957 at 100 / 200 / 400, across all kinds 0.87 / 0.94 / 0.97; one graph walk p50 7.3 / 8.3 /
 * 13.2 ms. 200 buys most of the recall for ~1 ms a walk.
 */
export const DEFAULT_EF_SEARCH = 200

export interface NearestChunksInput {
  model: { id: string; dim: number }
  /**
   * SQL predicate over `chunks c` (search.ts builds it; values bound through `params`). Conjuncts of the form
   * `c.embedding_model = '<literal>'` and `c.kind = $n` need no row count (filtersBeyondKind); anything else
   * makes nearestChunks count the rows that pass before choosing its path.
   */
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
  const exact: IndexedKind[] = []
  const graph: IndexedKind[] = []
  if (!filtersBeyondKind(input.where)) {
    // Model and kind only: every kind's graph holds exactly the rows that pass, so no count is needed (a small
    // kind's graph is small, and at ef_search ≥ its size the walk is exhaustive anyway). Counting cost 2–7 ms
    // here at 100k chunks: hundreds of wide heap pages read to find the first rows of a kind.
    graph.push(...INDEXED_KINDS)
  } else {
    // Per kind, counting stops at EXACT_MAX + 1 rows (through the (service, kind) btree for a service filter).
    const { rows: counted } = await tx.query<Record<IndexedKind, number>>(
      `select ${INDEXED_KINDS.map((k) => `(select count(*)::int from (select 1 from chunks c where ${input.where} and ${kindPred(k)} limit ${EXACT_MAX + 1}) f) as ${k}`).join(', ')}`,
      input.params,
    )
    // Smallest kinds first into the exact scan while the total stays within EXACT_MAX; the others walk their graph.
    let exactRows = 0
    for (const [k, n] of INDEXED_KINDS.map((k) => [k, counted[0]?.[k] ?? 0] as const).sort((a, b) => a[1] - b[1])) {
      if (n === 0) continue
      if (exactRows + n <= EXACT_MAX) {
        exact.push(k)
        exactRows += n
      } else graph.push(k)
    }
    if (exact.length + graph.length === 0) return { path: 'none', rows: [] }
  }

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
    await tx.query(`set local hnsw.ef_search = ${Math.trunc(input.efSearch ?? DEFAULT_EF_SEARCH)}`)
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

/**
 * Whether the predicate filters on more than the model and the kind (service, team, or anything unrecognised).
 * Conservative: a conjunct it does not recognise counts as a filter, which only costs the row count.
 */
export function filtersBeyondKind(where: string): boolean {
  const rest = where
    .split(/\s+and\s+/i)
    .map((c) => c.trim())
    .filter((c) => !/^c\.embedding_model = '(?:[^']|'')*'$/.test(c) && !/^c\.kind = \$\d+$/.test(c))
  return rest.length > 0
}
