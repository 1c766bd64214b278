import type { Database } from '../src/db/types.js'
import type { EmbeddingProvider } from '../src/knowledge/embeddings/types.js'
import { buildModelIndex, dropModelIndex, ensureModelIndex, shouldDeferModelIndex, shouldRebuildModelIndex } from '../src/knowledge/models.js'
import { refreshTermStatsAfterRun } from '../src/knowledge/termstats.js'
import { listActiveUris, tombstoneSource } from '../src/knowledge/store.js'
import { discover, LoadRefused, type Candidate } from './discover.js'
import { blankItem, prepareSource, relaxCommit, writeSource, type Prepared } from './index-source.js'
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
  /** The embedding model every chunk of this run was embedded with (the evidence bundle names it). */
  embeddingModel: string
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
      // sources were recorded with their own write (writeSource, index-source.ts).
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
    // One candidate of lookahead: the next file or feed is read, parsed, looked up and embedded while this one's
    // sources are written (prepared, index-source.ts). Items are still recorded in input order.
    const upcoming = prepareCandidates(deps, found.candidates, opts, counts, timings)
    let next = upcoming.next()
    next.catch(() => {}) // settled below; a run failing first must not leave it unhandled
    for (;;) {
      const step = await next
      if (step.done) break
      next = upcoming.next()
      next.catch(() => {})
      const { candidate, started, parsed } = step.value
      counts.read++
      if (!parsed.ok) {
        // A feed (or fetched page) that could not be read or parsed must not tombstone the items it used to hold.
        if (/\.(xml|rss|atom)$/i.test(candidate.uri) || /^https?:/i.test(candidate.uri)) completeOrigins.delete(candidate.origin)
        seen.add(candidate.uri)
        await record({ ...blankItem(candidate.uri), outcome: 'quarantined', reason: parsed.reason, detail: parsed.detail, ms: performance.now() - started })
      } else {
        for (const { src, prepared } of parsed.sources) {
          if (opts.signal?.aborted) throw new Error('interrupted')
          seen.add(src.uri)
          counts.sources++
          // A URI already met in this run (an item listed by two feeds) is prepared only now, after the earlier
          // occurrence was written, so it is compared with what that wrote, as in a sequential run.
          const p = prepared ?? (await prepareSource(deps, src, counts, timings))
          if (p.status !== 'ready') await record(p.item)
          else {
            const r = await writeSource(deps, p, src, { runId, origin: candidate.origin }, counts, timings)
            await record(r.item, r.written)
          }
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
    return { runId, status, embeddingModel: embedder.id, counts, timings: roundAll(timings), abandonedRuns, items, error }
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

interface PreparedCandidate {
  candidate: Candidate
  started: number
  parsed: { ok: false; reason: RunItem['reason']; detail: string } | { ok: true; sources: Array<{ src: ParsedSource; prepared: Prepared | null }> }
}

/**
 * The candidates, each loaded, parsed and its sources prepared (prepareSource), one at a time as runIngest asks
 * for the next. `prepared` is null for a URI already met in this run (see runIngest).
 */
async function* prepareCandidates(
  deps: IngestDeps,
  candidates: readonly Candidate[],
  opts: IngestOptions,
  counts: RunCounts,
  timings: { parse_ms: number; embed_ms: number },
): AsyncGenerator<PreparedCandidate> {
  const met = new Set<string>()
  for (const candidate of candidates) {
    if (opts.signal?.aborted) throw new Error('interrupted')
    const started = performance.now()
    const parsed = await loadAndParse(candidate, opts.maxBytes)
    timings.parse_ms += performance.now() - started
    if (!parsed.ok) {
      yield { candidate, started, parsed: { ok: false, reason: parsed.reason, detail: parsed.detail } }
      continue
    }
    const sources: Array<{ src: ParsedSource; prepared: Prepared | null }> = []
    for (const src of parsed.sources) {
      if (opts.signal?.aborted) throw new Error('interrupted')
      const again = met.has(src.uri)
      met.add(src.uri)
      sources.push({ src, prepared: again ? null : await prepareSource(deps, src, counts, timings) })
    }
    yield { candidate, started, parsed: { ok: true, sources } }
  }
}

function failedItem(uri: string, detail: string): RunItem {
  return { ...blankItem(uri), outcome: 'failed', reason: 'input_error', detail }
}

function roundAll(t: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 10) / 10]))
}
