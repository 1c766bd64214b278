import { sha256 } from '../../ingest/hash.js'
import type { Queryable } from '../db/types.js'

// Each embedding model gets a partial HNSW index over (embedding::vector(dim)) restricted to its own rows.
// Queries use the very same expression and predicate, so a model's vectors are only ever compared with its own.

export interface ModelSpec {
  id: string
  dim: number
}

export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

export function hnswIndexName(model: ModelSpec): string {
  return `chunks_hnsw_${sha256(`${model.id}/${model.dim}`).slice(0, 16)}`
}

/** The expression the HNSW index is built on; search must use it verbatim to get an index scan. */
export function vectorExpr(model: ModelSpec, column = 'c.embedding'): string {
  return `(${column}::vector(${Math.trunc(model.dim)}))`
}

export async function ensureModelIndex(q: Queryable, model: ModelSpec): Promise<void> {
  const name = hnswIndexName(model)
  const existing = await q.query('select 1 from embedding_models where id = $1 and dim = $2', [model.id, model.dim])
  if (existing.rowCount > 0) return
  await q.query(
    `CREATE INDEX IF NOT EXISTS ${name} ON chunks USING hnsw ((embedding::vector(${Math.trunc(model.dim)})) vector_cosine_ops)
     WHERE embedding_model = ${sqlLiteral(model.id)}`,
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
