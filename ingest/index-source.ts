import type { Database, Queryable } from '../src/db/types.js'
import type { EmbeddingProvider } from '../src/knowledge/embeddings/types.js'
import { toVectorLiteral } from '../src/knowledge/models.js'
import { findSource, sourceParams, TELEMETRY_ON_CONFLICT_SQL, UPSERT_SOURCE_SQL } from '../src/knowledge/store.js'
import { chunkSource, CHUNKER_VERSION, type IndexedChunk } from './chunk.js'
import { sha256 } from './hash.js'
import { RUN_ITEM_ON_CONFLICT_SQL, type RunCounts, type RunItem } from './runs.js'
import type { ParsedSource } from './types.js'

// One source through the pipeline, in two steps so runIngest can overlap them across sources:
//   prepareSource: hash → lookup → (unchanged: stop) → chunk → embed. Reads only; no write, no transaction.
//   writeSource:   the source, its chunks (and telemetry) and its run item in one transaction.
// Preparing the next source while the previous one is written keeps both the client (parsing, embedding) and
// the database (the write) busy: on Postgres they run on different pooled connections and cores.

export interface SourceDeps {
  db: Database
  embedder: EmbeddingProvider
}

export type Prepared =
  | { status: 'unchanged'; item: RunItem }
  | { status: 'failed'; item: RunItem }
  | { status: 'ready'; item: RunItem; contentHash: string; chunks: IndexedChunk[]; vectors: number[][]; started: number }

/** Hash of everything that determines a source's chunks; the chunker version makes a chunking change re-index. */
export function sourceHash(src: ParsedSource): string {
  const { uri, kind, title, service, team, tags, metadata, sections } = src
  return sha256(JSON.stringify({ v: CHUNKER_VERSION, uri, kind, title, service, team, tags, metadata, sections }))
}

export function blankItem(uri: string): RunItem {
  return { uri, outcome: 'failed', kind: null, reason: null, detail: null, content_hash: null, chunks: null, ms: null }
}

/**
 * Everything before the write. An unchanged source (same hash, active, same embedding model) stops here, before
 * chunking: it costs no embedding call. Counts embedding calls and timings as it goes.
 */
export async function prepareSource(deps: SourceDeps, src: ParsedSource, counts: RunCounts, timings: { embed_ms: number }): Promise<Prepared> {
  const started = performance.now()
  const contentHash = sourceHash(src)
  const base = { ...blankItem(src.uri), kind: src.kind, content_hash: contentHash }
  try {
    const existing = await findSource(deps.db, src.uri)
    if (existing && existing.status === 'active' && existing.content_hash === contentHash && existing.embedding_model === deps.embedder.id) {
      return { status: 'unchanged', item: { ...base, outcome: 'unchanged', ms: performance.now() - started } }
    }
    const chunks = await chunkSource(src)
    const t = performance.now()
    const vectors = chunks.length ? await deps.embedder.embed(chunks.map((c) => c.indexText)) : []
    timings.embed_ms += performance.now() - t
    if (chunks.length) counts.embedding_calls++
    counts.embedded_chunks += chunks.length
    const reason = !existing
      ? null
      : existing.status === 'tombstoned'
        ? 'restored'
        : existing.embedding_model !== deps.embedder.id
          ? 'model_switch'
          : 'content_changed'
    const item: RunItem = { ...base, outcome: existing ? 'updated' : 'new', reason, chunks: chunks.length, ms: 0 }
    return { status: 'ready', item, contentHash, chunks, vectors, started }
  } catch (err) {
    return { status: 'failed', item: failedIndexing(base, err, started) }
  }
}

/**
 * The source, its chunks and its run item in one transaction: a source is never half-visible, and its bundle
 * row commits with it. A failure becomes the source's `failed` item (index_error); other sources go on.
 */
export async function writeSource(
  deps: SourceDeps,
  p: Extract<Prepared, { status: 'ready' }>,
  src: ParsedSource,
  meta: { runId: string; origin: string },
  counts: RunCounts,
  timings: { write_ms: number },
): Promise<{ item: RunItem; written: boolean }> {
  const t = performance.now()
  try {
    p.item.ms = performance.now() - p.started
    await writeSourceStatement(deps.db, src, p, { ...meta, model: { id: deps.embedder.id, dim: deps.embedder.dim }, relaxCommit: deps.db.kind === 'postgres' })
  } catch (err) {
    return { item: failedIndexing(p.item, err, p.started), written: false }
  } finally {
    timings.write_ms += performance.now() - t
  }
  counts.chunks_written += p.chunks.length
  return { item: p.item, written: true }
}

/**
 * The whole write of a source as ONE statement, hence one transaction and one round trip: upsert the source,
 * delete its old chunks, insert the new ones, its telemetry summary if any, and its run item. Eight round trips
 * before (BEGIN, SET, upsert, delete, insert, item, COMMIT, plus the lookup) cost more than the writing itself
 * at ~0.1–1 ms each (bench:ingest; each also waits for the client's event loop, busy parsing and embedding).
 * Data-modifying CTEs all run against the statement's snapshot: the chunk insert reads the delete's row count
 * first, so the old rows are gone before the new ones are checked against the (source_id, ord) key.
 * `relaxCommit`: synchronous_commit off for this transaction only (see relaxCommit). $1–$11 are the source's
 * (UPSERT_SOURCE_SQL, sourceParams); the rest follow them.
 */
async function writeSourceStatement(
  q: Queryable,
  src: ParsedSource,
  p: Extract<Prepared, { status: 'ready' }>,
  meta: { runId: string; origin: string; model: { id: string; dim: number }; relaxCommit: boolean },
): Promise<void> {
  const rows = p.chunks.map((c, i) => ({
    ord: c.ord,
    heading_path: c.headingPath,
    text: c.text,
    // Full text indexes the chunk with its document's title, lede and headings (chunk.ts, lexicalText); the
    // embedding and the cited text stay the passage's own.
    index_text: c.lexicalText,
    content_hash: c.contentHash,
    embedding: toVectorLiteral(p.vectors[i]!),
  }))
  const t = src.telemetry
  const it = p.item
  await q.query(
    `with src as (${UPSERT_SOURCE_SQL}),
     old as (delete from chunks where source_id = (select id from src) returning 1),
     new as (
       insert into chunks (source_id, ord, heading_path, text, index_text, content_hash, embedding, embedding_model,
                           embedding_dim, kind, service, team)
       select (select id from src), r.ord, array(select jsonb_array_elements_text(r.heading_path)), r.text, r.index_text,
              r.content_hash, r.embedding::vector, $10, $13::int, $2, $5, $6
       from jsonb_to_recordset($12::jsonb) as r(ord int, heading_path jsonb, text text, index_text text, content_hash text, embedding text)
       where (select count(*) from old) >= 0
       returning 1),
     tel as (
       insert into telemetry_summaries (source_id, service, window_start, window_end, data_quality_status, document, content_hash)
       select (select id from src), $14::text, $15::timestamptz, $16::timestamptz, $17::text, $18::jsonb, $9
       where $14::text is not null
       ${TELEMETRY_ON_CONFLICT_SQL}
       returning 1),
     item as (
       insert into ingest_run_items (run_id, uri, outcome, kind, reason, detail, content_hash, chunks, ms)
       values ($11, $1, $19, $2, $20, $21, $9, $22, $23)
       ${RUN_ITEM_ON_CONFLICT_SQL}
       returning 1)
     select (select count(*) from new) as chunks, (select count(*) from tel) as telemetry, (select count(*) from item) as items
            ${meta.relaxCommit ? ", set_config('synchronous_commit', 'off', true) as relaxed" : ''}`,
    [
      ...sourceParams(src, { origin: meta.origin, contentHash: p.contentHash, embeddingModel: meta.model.id, runId: meta.runId }),
      JSON.stringify(rows), meta.model.dim,
      t?.service ?? null, t?.window.start ?? null, t?.window.end ?? null, t?.data_quality.status ?? null, t ? JSON.stringify(t) : null,
      it.outcome, it.reason, it.detail?.slice(0, 2000) ?? null, it.chunks, it.ms,
    ],
  )
}

function failedIndexing(base: RunItem, err: unknown, started: number): RunItem {
  const detail = err instanceof Error ? err.message : String(err)
  return { ...base, outcome: 'failed', reason: 'index_error', detail, chunks: null, ms: performance.now() - started }
}

/**
 * Ingestion transactions commit without waiting for the WAL flush. The trade-off: a server crash can lose the
 * last few hundred milliseconds of committed sources (never half of one: each source stays one atomic
 * transaction, and what survives is consistent). Acceptable because the index is derived data: the next run
 * sees those sources as new or changed by their hashes and writes them again. It removes a WAL fsync per
 * source, the largest cost after HNSW maintenance. Run bookkeeping (insertRun, finishRun) keeps durable commits.
 * Postgres only: embedded PGlite's server is this process, so a mere kill of the CLI (not a machine crash)
 * would lose the unflushed tail, and a killed run must leave its committed sources for the next one to skip.
 */
export async function relaxCommit(tx: Queryable, db: Database): Promise<void> {
  if (db.kind === 'postgres') await tx.query('set local synchronous_commit = off')
}
