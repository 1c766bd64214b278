import { sha256 } from '../../ingest/hash.js'
import type { Database, Queryable } from '../db/types.js'

// Each embedding model gets a partial HNSW index over (embedding::vector(dim)) restricted to its own rows.
// Queries use the very same expression and predicate, so a model's vectors are only ever compared with its own.

export interface ModelSpec {
  id: string
  dim: number
}

export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/**
 * HNSW build parameters, denser than pgvector's defaults (m 16, ef_construction 64): measured at 100k chunks
 * of the local embedder, recall@10 at ef_search 100 rose from 0.575 to 0.722 (see 008_hnsw_params.sql, which
 * rebuilds indexes created before with these same values).
 */
export const HNSW_BUILD = 'm = 32, ef_construction = 200'

export function hnswIndexName(model: ModelSpec): string {
  return `chunks_hnsw_${sha256(`${model.id}/${model.dim}`).slice(0, 16)}`
}

/** The expression the HNSW index is built on; search must use it verbatim to get an index scan. */
export function vectorExpr(model: ModelSpec, column = 'c.embedding'): string {
  return `(${column}::vector(${Math.trunc(model.dim)}))`
}

/**
 * Creates the model's HNSW index if it does not exist, and registers the model. Checks the index itself, not
 * the registry: an ingestion run that deferred the build (shouldDeferModelIndex) and died before building it
 * left a registered model, or none, without an index; the next run must still build it.
 */
export async function ensureModelIndex(q: Queryable, model: ModelSpec): Promise<void> {
  const name = hnswIndexName(model)
  const existing = await q.query<{ ok: boolean }>(
    'select exists (select 1 from embedding_models where id = $1 and dim = $2) and to_regclass($3) is not null as ok',
    [model.id, model.dim, name],
  )
  if (existing.rows[0]?.ok) return
  await q.query(
    `CREATE INDEX IF NOT EXISTS ${name} ON chunks USING hnsw ((embedding::vector(${Math.trunc(model.dim)})) vector_cosine_ops)
     WITH (${HNSW_BUILD}) WHERE embedding_model = ${sqlLiteral(model.id)}`,
  )
  await q.query('insert into embedding_models (id, dim, index_name) values ($1, $2, $3) on conflict (id) do nothing', [
    model.id,
    model.dim,
    name,
  ])
}

export function toVectorLiteral(v: readonly number[]): string {
  return `[${v.join(',')}]`
}

/**
 * True when the model has no index yet and no chunks: a first load. Maintaining an HNSW graph row by row is
 * most of the cost of writing a chunk, and one bulk build after the load is several times cheaper overall (and
 * gives the graph every point at once). Nothing is lost meanwhile: a vector search without the index is an
 * exact scan of the few chunks written so far.
 */
export async function shouldDeferModelIndex(q: Queryable, model: ModelSpec): Promise<boolean> {
  const { rows } = await q.query<{ defer: boolean }>(
    `select to_regclass($1) is null and not exists (select 1 from chunks where embedding_model = $2) as defer`,
    [hnswIndexName(model), model.id],
  )
  return rows[0]?.defer ?? false
}

/** maintenance_work_mem for a bulk HNSW build: pgvector builds far faster when the graph fits in it. */
export const INDEX_BUILD_MEMORY = '256MB'

/** The deferred bulk build at the end of a first load (see shouldDeferModelIndex), then fresh planner stats. */
export async function buildModelIndex(db: Database, model: ModelSpec): Promise<void> {
  await db.transaction(async (tx) => {
    // PGlite's WASM heap is small and its loads are small: keep the server default there.
    if (db.kind === 'postgres') await tx.query(`set local maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`)
    await ensureModelIndex(tx, model)
  })
  await db.query('analyze chunks')
}
