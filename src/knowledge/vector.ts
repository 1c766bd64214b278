import type { Queryable } from '../db/types.js'
import { toVectorLiteral, vectorExpr } from './models.js'

// The vector ranker's candidate query: the chunks nearest a query vector under a filter, through the per-model
// HNSW index (models.ts). Kept apart from the fusion in search.ts because it is what the index parameters,
// ef_search and the filtered-search strategy tune, and what bench:retrieval measures against exact search.

export interface NearestChunksInput {
  model: { id: string; dim: number }
  /** SQL predicate over `chunks c` (search.ts builds it; values bound through `params`). */
  where: string
  params: unknown[]
  vec: number[]
  limit: number
  /** HNSW candidate list size; see bench:retrieval for the recall/latency trade-off. */
  efSearch?: number
}

export interface NearestChunk {
  id: number
  /** Cosine distance to the query vector. */
  distance: number
  /** Distinct lexemes of the chunk (its tsv length), for the length prior. */
  len: number
}

export async function nearestChunks(tx: Queryable, input: NearestChunksInput): Promise<NearestChunk[]> {
  await tx.query(`set local hnsw.ef_search = ${Math.trunc(input.efSearch ?? 100)}`)
  // Filters (service/team/kind) still fill the limit: pgvector >= 0.8 keeps scanning the index.
  await tx.query('set local hnsw.iterative_scan = relaxed_order')
  const p = [...input.params]
  const qv = `$${p.push(toVectorLiteral(input.vec))}::vector(${input.model.dim})`
  const lim = `$${p.push(input.limit)}`
  const expr = vectorExpr(input.model)
  // Relaxed ordering can return slightly out-of-order rows: materialize, then re-sort exactly.
  const { rows } = await tx.query<NearestChunk>(
    `with v as materialized (
       select c.id, ${expr} <=> ${qv} as distance, length(c.tsv) as len from chunks c where ${input.where}
       order by ${expr} <=> ${qv} limit ${lim})
     select id, distance, len from v order by distance, id`,
    p,
  )
  return rows
}
