import type { Database, Queryable } from '../src/db/types.js'
import type { EmbeddingProvider } from '../src/knowledge/embeddings/types.js'
import { buildModelIndex, dropModelIndex, ensureModelIndex, shouldDeferModelIndex, shouldRebuildModelIndex } from '../src/knowledge/models.js'
import { refreshTermStatsAfterRun } from '../src/knowledge/termstats.js'
import { findSource, listActiveUris, replaceChunks, tombstoneSource, upsertSource, upsertTelemetry } from '../src/knowledge/store.js'
import { chunkSource, CHUNKER_VERSION } from './chunk.js'
import { discover, LoadRefused, type Candidate } from './discover.js'
import { sha256 } from './hash.js'
import { parseSource } from './parse/index.js'
import { emptyCounts, finishRun, insertRun, markAbandoned, newRunId, recordItem, recordItems, type RunCounts, type RunItem } from './runs.js'
import type { ParsedSource } from './types.js'

// parse → validate → normalize → chunk → hash → embed → upsert, one transaction per source.
// Single writer: the run holds the `warden:ingest` lock for its whole duration.

export interface IngestDeps {
  db: Database
  embedder: EmbeddingProvider
  clock?: () => Date
  fetch?: typeof fetch
}

export interface IngestOptions {
  inputs: string[]
  maxBytes: number
  signal?: AbortSignal
  onProgress?: (p: { done: number; total: number; uri: string; outcome: RunItem['outcome'] }) => void
}

export interface IngestSummary {
  runId: string
  status: 'complete' | 'failed'
  counts: RunCounts
  timings: Record<string, number>
  abandonedRuns: string[]
  items: RunItem[]
  error: string | null
}

export class IngestBusyError extends Error {
  constructor() {
    super('another ingestion run is in progress (single writer); wait for it to finish or check `warden ingest runs`')
    this.name = 'IngestBusyError'
  }
}

export async function runIngest(deps: IngestDeps, opts: IngestOptions): Promise<IngestSummary> {
  const { db, embedder } = deps
  const clock = deps.clock ?? (() => new Date())
  const lock = await db.tryLock('warden:ingest')
  if (!lock) throw new IngestBusyError()
  const t0 = performance.now()
  const timings = { discover_ms: 0, parse_ms: 0, embed_ms: 0, write_ms: 0, index_build_ms: 0, total_ms: 0 }
  let deferredIndex = false
  const counts = emptyCounts()
  const items: RunItem[] = []
  const runId = newRunId(clock())
  try {
    const abandonedRuns = await markAbandoned(db)
    await insertRun(db, runId, opts.inputs, embedder.id)
    const model = { id: embedder.id, dim: embedder.dim }
    // A first load builds the HNSW indexes once at the end (models.ts, shouldDeferModelIndex); otherwise they are
    // maintained row by row so that searches during the run keep using them, unless the run is large.
    deferredIndex = await shouldDeferModelIndex(db, model)
    if (!deferredIndex) await ensureModelIndex(db, model)

    const record = async (item: RunItem, written = false) => {
      items.push(item)
      counts[item.outcome]++
      if (item.outcome === 'quarantined' && item.reason) {
        counts.quarantine_reasons[item.reason] = (counts.quarantine_reasons[item.reason] ?? 0) + 1
      }
      // Unchanged sources cost no per-source write: they join the bundle in one batch at the end. Indexed
      // sources were recorded inside their own transaction (indexSource).
      if (item.outcome !== 'unchanged' && !written) await recordItem(db, runId, item)
    }

    let t = performance.now()
    const found = await discover(opts.inputs, { maxBytes: opts.maxBytes, fetch: deps.fetch })
    timings.discover_ms = performance.now() - t
    for (const e of found.errors) await record(failedItem(e.input, e.detail))
    // A run adding many chunks relative to the base also builds at the end (models.ts, shouldRebuildModelIndex).
    if (!deferredIndex && (await shouldRebuildModelIndex(db, model, found.candidates.map((c) => c.uri)))) {
      await dropModelIndex(db, model)
      deferredIndex = true
    }

    const seen = new Set<string>()
    const completeOrigins = new Set(found.origins)
    let done = 0
    for (const candidate of found.candidates) {
      if (opts.signal?.aborted) throw new Error('interrupted')
      counts.read++
      const started = performance.now()
      t = performance.now()
      const parsed = await loadAndParse(candidate, opts.maxBytes)
      timings.parse_ms += performance.now() - t
      if (!parsed.ok) {
        // A feed (or fetched page) that could not be read or parsed must not tombstone the items it used to hold.
        if (/\.(xml|rss|atom)$/i.test(candidate.uri) || /^https?:/i.test(candidate.uri)) completeOrigins.delete(candidate.origin)
        seen.add(candidate.uri)
        await record({ ...blankItem(candidate.uri), outcome: 'quarantined', reason: parsed.reason, detail: parsed.detail, ms: performance.now() - started })
      } else {
        for (const src of parsed.sources) {
          if (opts.signal?.aborted) throw new Error('interrupted')
          seen.add(src.uri)
          counts.sources++
          const r = await indexSource(deps, runId, candidate.origin, src, counts, timings)
          await record(r.item, r.written)
        }
      }
      opts.onProgress?.({ done: ++done, total: found.candidates.length, uri: candidate.uri, outcome: items.at(-1)!.outcome })
    }

    if (deferredIndex) {
      t = performance.now()
      await buildModelIndex(db, model)
      deferredIndex = false
      timings.index_build_ms = performance.now() - t
    }

    for (const origin of completeOrigins) {
      for (const uri of await listActiveUris(db, origin)) {
        if (seen.has(uri)) continue
        await db.transaction(async (tx) => {
          await relaxCommit(tx, db)
          if (await tombstoneSource(tx, uri, runId)) {
            const item: RunItem = { ...blankItem(uri), outcome: 'tombstoned', detail: `no longer present in ${origin}` }
            items.push(item)
            counts.tombstoned++
            await recordItem(tx, runId, item)
          }
        })
      }
    }

    // Corpus statistics for BM25 ranking (src/knowledge/termstats.ts), rebuilt when this run changed the corpus.
    await refreshTermStatsAfterRun(db, counts.chunks_written + counts.updated + counts.tombstoned)
    await recordItems(db, runId, items.filter((i) => i.outcome === 'unchanged'))
    timings.total_ms = performance.now() - t0
    const status = counts.failed > 0 ? 'failed' : 'complete'
    const error = status === 'failed' ? `${counts.failed} source(s) could not be indexed` : null
    await finishRun(db, runId, status, counts, roundAll(timings), error)
    return { runId, status, counts, timings: roundAll(timings), abandonedRuns, items, error }
  } catch (err) {
    // A first load (or large run) that failed still leaves its chunks searchable through the indexes (best
    // effort: the next run builds them anyway, see ensureModelIndex).
    if (deferredIndex) await buildModelIndex(db, { id: embedder.id, dim: embedder.dim }).catch(() => {})
    timings.total_ms = performance.now() - t0
    const message = err instanceof Error ? err.message : String(err)
    await finishRun(db, runId, 'failed', counts, roundAll(timings), message).catch(() => {})
    throw err
  } finally {
    await lock.release()
  }
}

async function loadAndParse(candidate: Candidate, maxBytes: number) {
  let content: Buffer
  try {
    content = await candidate.load()
  } catch (err) {
    if (err instanceof LoadRefused) return { ok: false as const, reason: err.reason, detail: err.detail }
    return { ok: false as const, reason: 'unreadable' as const, detail: err instanceof Error ? err.message : String(err) }
  }
  return parseSource({ uri: candidate.uri, content, maxBytes, contentType: candidate.contentType })
}

/** Hash of everything that determines a source's chunks; the chunker version makes a chunking change re-index. */
export function sourceHash(src: ParsedSource): string {
  const { uri, kind, title, service, team, tags, metadata, sections } = src
  return sha256(JSON.stringify({ v: CHUNKER_VERSION, uri, kind, title, service, team, tags, metadata, sections }))
}

async function indexSource(
  deps: IngestDeps,
  runId: string,
  origin: string,
  src: ParsedSource,
  counts: RunCounts,
  timings: Record<'embed_ms' | 'write_ms', number>,
): Promise<{ item: RunItem; written: boolean }> {
  const started = performance.now()
  const contentHash = sourceHash(src)
  const base = { ...blankItem(src.uri), kind: src.kind, content_hash: contentHash }
  try {
    const existing = await findSource(deps.db, src.uri)
    if (existing && existing.status === 'active' && existing.content_hash === contentHash && existing.embedding_model === deps.embedder.id) {
      return { item: { ...base, outcome: 'unchanged', ms: performance.now() - started }, written: false }
    }
    const chunks = await chunkSource(src)
    let t = performance.now()
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
    t = performance.now()
    await deps.db.transaction(async (tx) => {
      await relaxCommit(tx, deps.db)
      const id = await upsertSource(tx, src, { origin, contentHash, embeddingModel: deps.embedder.id, runId })
      await replaceChunks(tx, id, src, chunks, vectors, { id: deps.embedder.id, dim: deps.embedder.dim })
      if (src.telemetry) await upsertTelemetry(tx, id, src.telemetry, contentHash)
      // The bundle row commits with the source it describes: no commit of its own, never out of step.
      item.ms = performance.now() - started
      await recordItem(tx, runId, item)
    })
    timings.write_ms += performance.now() - t
    counts.chunks_written += chunks.length
    return { item, written: true }
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    return { item: { ...base, outcome: 'failed', reason: 'index_error', detail, ms: performance.now() - started }, written: false }
  }
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
async function relaxCommit(tx: Queryable, db: Database): Promise<void> {
  if (db.kind === 'postgres') await tx.query('set local synchronous_commit = off')
}

function blankItem(uri: string): RunItem {
  return { uri, outcome: 'failed', kind: null, reason: null, detail: null, content_hash: null, chunks: null, ms: null }
}

function failedItem(uri: string, detail: string): RunItem {
  return { ...blankItem(uri), outcome: 'failed', reason: 'input_error', detail }
}

function roundAll(t: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 10) / 10]))
}
