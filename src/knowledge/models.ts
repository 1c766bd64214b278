import { sha256 } from '../../ingest/hash.js'
import type { Database, Queryable } from '../db/types.js'

// Each embedding model gets partial HNSW indexes over (embedding::vector(dim)) restricted to its own rows, one
// per source kind. Queries use the very same expression and predicate, so a model's vectors are only ever
// compared with its own.

export interface ModelSpec {
  id: string
  dim: number
}

export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/**
 * HNSW build parameters, denser than pgvector's defaults (m 16, ef_construction 64): measured at 100k chunks
 * of the local embedder, recall@10 at ef_search 100 rose from 0.575 to 0.722 (see 008_hnsw_params.sql).
 */
export const HNSW_BUILD = 'm = 32, ef_construction = 200'

/**
 * The source kinds, one partial HNSW index each (009_hnsw_per_kind.sql). Must list every kind the sources.kind
 * CHECK constraint allows (chunks copy it): a chunk of a kind missing here would be in no index and invisible to vector search
 * (test/integration/knowledge/hnsw-params.test.ts compares the two).
 */
export const INDEXED_KINDS = ['runbook', 'case_study', 'telemetry', 'doc'] as const
export type IndexedKind = (typeof INDEXED_KINDS)[number]

/** The model's name prefix: the registry's index_name, and the name of its former single index (before 009). */
export function hnswIndexName(model: ModelSpec): string {
  return `chunks_hnsw_${sha256(`${model.id}/${model.dim}`).slice(0, 16)}`
}

/** The model's HNSW index over the chunks of one kind. */
export function hnswKindIndexName(model: ModelSpec, kind: IndexedKind): string {
  return `${hnswIndexName(model)}_${kind}`
}

export function hnswIndexNames(model: ModelSpec): string[] {
  return INDEXED_KINDS.map((k) => hnswKindIndexName(model, k))
}

/** The expression the HNSW index is built on; search must use it verbatim to get an index scan. */
export function vectorExpr(model: ModelSpec, column = 'c.embedding'): string {
  return `(${column}::vector(${Math.trunc(model.dim)}))`
}

/**
 * The partial index's predicate. Every vector query names the kind as a literal (vector.ts), so the planner can
 * prove the predicate and pick the index; kind literals come from INDEXED_KINDS only, never from input.
 */
export function kindIndexPredicate(model: ModelSpec, kind: IndexedKind, alias = ''): string {
  return `${alias}embedding_model = ${sqlLiteral(model.id)} and ${alias}kind = ${sqlLiteral(kind)}`
}

/**
 * Why one index per kind, not one per model: every assessment searches within a kind (retrievePassages), and
 * through a single index a kind filter was a post-filter over the whole model's graph (iterative scan keeps
 * walking until enough rows of the kind turn up): at 100k chunks such a search cost twice an unfiltered one at
 * lower recall. A graph per kind is searched without any filter, is smaller (higher recall at equal
 * ef_search), and each chunk is still inserted into one graph only, so ingestion does not pay twice. A search
 * across kinds reads the kinds' graphs and merges (nearestChunks).
 */
function createKindIndexSql(model: ModelSpec, kind: IndexedKind): string {
  return `CREATE INDEX IF NOT EXISTS ${hnswKindIndexName(model, kind)} ON chunks USING hnsw (${vectorExpr(model, 'embedding')} vector_cosine_ops)
     WITH (${HNSW_BUILD}) WHERE ${kindIndexPredicate(model, kind)}`
}

/**
 * Creates the model's missing per-kind HNSW indexes, and registers the model. Checks the indexes themselves, not
 * the registry: an ingestion run that deferred the build (shouldDeferModelIndex) and died before building them
 * left a registered model, or none, without indexes; the next run must still build them.
 */
export async function ensureModelIndex(q: Queryable, model: ModelSpec): Promise<void> {
  const { rows } = await q.query<{ name: string }>(
    'select n as name from unnest($1::text[]) n where to_regclass(n) is null',
    [hnswIndexNames(model)],
  )
  const missing = new Set(rows.map((r) => r.name))
  for (const kind of INDEXED_KINDS) if (missing.has(hnswKindIndexName(model, kind))) await q.query(createKindIndexSql(model, kind))
  await q.query('insert into embedding_models (id, dim, index_name) values ($1, $2, $3) on conflict (id) do nothing', [
    model.id,
    model.dim,
    hnswIndexName(model),
  ])
}

/** Drops the model's HNSW indexes (a large ingestion run rebuilds them after its writes: shouldRebuildModelIndex). */
export async function dropModelIndex(q: Queryable, model: ModelSpec): Promise<void> {
  for (const name of hnswIndexNames(model)) await q.query(`DROP INDEX IF EXISTS ${name}`)
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
    `select not exists (select 1 from unnest($1::text[]) n where to_regclass(n) is not null)
            and not exists (select 1 from chunks where embedding_model = $2) as defer`,
    [hnswIndexNames(model), model.id],
  )
  return rows[0]?.defer ?? false
}

/**
 * A run expected to add at least this share of the model's indexed chunks (and REBUILD_MIN_CHUNKS) drops the
 * model's indexes and builds them after its writes, as a first load does. Inserting into an m 32 /
 * ef_construction 200 graph costs ~4 ms a chunk (bench:ingest: ~230 chunks/s), a bulk build ~0.7 ms a chunk of
 * the whole corpus, and a write without the index ~1 ms: rebuilding wins once the new chunks exceed about a
 * quarter of the existing ones. Meanwhile searches are exact scans (slower on a large base, never wrong).
 */
export const REBUILD_FRACTION = 0.25
export const REBUILD_MIN_CHUNKS = 1000

/**
 * Whether a run over these candidate URIs should rebuild the model's indexes rather than maintain them. The new
 * chunks are estimated before any parsing: candidates whose URI is not a known source, times the model's
 * average chunks per source (a feed counts as one candidate, so a large new feed is under-estimated: it only
 * errs towards the incremental path).
 */
export async function shouldRebuildModelIndex(
  q: Queryable,
  model: ModelSpec,
  candidateUris: readonly string[],
  opts: { minChunks?: number; fraction?: number } = {},
): Promise<boolean> {
  const { rows } = await q.query<{ fresh: number; chunks: number; sources: number }>(
    `select (select count(*)::int from unnest($1::text[]) u where not exists (select 1 from sources s where s.uri = u)) as fresh,
            (select count(*)::int from chunks where embedding_model = $2) as chunks,
            (select count(distinct source_id)::int from chunks where embedding_model = $2) as sources`,
    [candidateUris, model.id],
  )
  const r = rows[0]
  if (!r || r.chunks === 0 || r.sources === 0) return false
  const estimate = r.fresh * (r.chunks / r.sources)
  return estimate >= (opts.minChunks ?? REBUILD_MIN_CHUNKS) && estimate >= (opts.fraction ?? REBUILD_FRACTION) * r.chunks
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
