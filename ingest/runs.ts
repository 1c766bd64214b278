import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { appendAudit } from '../src/audit/append.js'
import { withTransaction, type Queryable } from '../src/db/types.js'

// Ingestion runs and their evidence bundle (one item row per source considered).

export type RunStatus = 'running' | 'complete' | 'failed' | 'abandoned'
export type ItemOutcome = 'new' | 'updated' | 'unchanged' | 'quarantined' | 'tombstoned' | 'failed'

export interface RunCounts {
  read: number
  sources: number
  new: number
  updated: number
  unchanged: number
  quarantined: number
  tombstoned: number
  failed: number
  chunks_written: number
  embedding_calls: number
  embedded_chunks: number
  quarantine_reasons: Record<string, number>
}

export const emptyCounts = (): RunCounts => ({
  read: 0,
  sources: 0,
  new: 0,
  updated: 0,
  unchanged: 0,
  quarantined: 0,
  tombstoned: 0,
  failed: 0,
  chunks_written: 0,
  embedding_calls: 0,
  embedded_chunks: 0,
  quarantine_reasons: {},
})

export interface RunRow {
  id: string
  status: RunStatus
  started_at: Date
  finished_at: Date | null
  pid: number | null
  host: string | null
  inputs: string[]
  embedding_model: string
  counts: RunCounts
  timings: Record<string, number>
  error: string | null
}

export interface RunItem {
  uri: string
  outcome: ItemOutcome
  kind: string | null
  reason: string | null
  detail: string | null
  content_hash: string | null
  chunks: number | null
  ms: number | null
}

export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  return `run_${stamp}_${randomBytes(3).toString('hex')}`
}

export async function insertRun(q: Queryable, id: string, inputs: string[], embeddingModel: string): Promise<void> {
  await withTransaction(q, async (tx) => {
    await tx.query(
      `insert into ingest_runs (id, status, pid, host, inputs, embedding_model) values ($1, 'running', $2, $3, $4, $5)`,
      [id, process.pid, os.hostname(), JSON.stringify(inputs), embeddingModel],
    )
    await appendAudit(tx, { actor: 'system:ingest', action: 'ingest.run_started', subject: `ingest_run:${id}`, data: { inputs, embedding_model: embeddingModel, pid: process.pid } })
  })
}

/**
 * Called only by the holder of the ingest lock: any other run still marked `running` cannot be alive
 * (its lock died with its process), so it was killed and is shown as abandoned.
 */
export async function markAbandoned(q: Queryable): Promise<string[]> {
  return withTransaction(q, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `update ingest_runs set status = 'abandoned', finished_at = now(),
         error = coalesce(error, 'process ended without finishing the run (killed or crashed)')
       where status = 'running' returning id`,
    )
    for (const r of rows) {
      await appendAudit(tx, { actor: 'system:ingest', action: 'ingest.run_abandoned', subject: `ingest_run:${r.id}`, data: {} })
    }
    return rows.map((r) => r.id)
  })
}

export async function finishRun(
  q: Queryable,
  id: string,
  status: Exclude<RunStatus, 'running' | 'abandoned'>,
  counts: RunCounts,
  timings: Record<string, number>,
  error: string | null,
): Promise<void> {
  await withTransaction(q, async (tx) => {
    const r = await tx.query(
      `update ingest_runs set status = $2, finished_at = now(), counts = $3, timings = $4, error = $5
       where id = $1 and status = 'running' returning id`,
      [id, status, JSON.stringify(counts), JSON.stringify(timings), error],
    )
    if (r.rows.length === 0) return
    await appendAudit(tx, { actor: 'system:ingest', action: `ingest.run_${status}`, subject: `ingest_run:${id}`, data: { counts, error } })
  })
}

/** A run item written again in its run (a retried source) replaces the first (shared with ingest/index-source.ts). */
export const RUN_ITEM_ON_CONFLICT_SQL = `on conflict (run_id, uri) do update set outcome = excluded.outcome, kind = excluded.kind, reason = excluded.reason,
       detail = excluded.detail, content_hash = excluded.content_hash, chunks = excluded.chunks, ms = excluded.ms`

export async function recordItem(q: Queryable, runId: string, item: RunItem): Promise<void> {
  await q.query(
    `insert into ingest_run_items (run_id, uri, outcome, kind, reason, detail, content_hash, chunks, ms)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ${RUN_ITEM_ON_CONFLICT_SQL}`,
    [runId, item.uri, item.outcome, item.kind, item.reason, item.detail?.slice(0, 2000) ?? null, item.content_hash, item.chunks, item.ms],
  )
}

/** One statement for many items: unchanged sources are listed in the bundle without a write per source. */
export async function recordItems(q: Queryable, runId: string, items: readonly RunItem[]): Promise<void> {
  if (items.length === 0) return
  await q.query(
    `insert into ingest_run_items (run_id, uri, outcome, kind, reason, detail, content_hash, chunks, ms)
     select $1, r.uri, r.outcome, r.kind, r.reason, r.detail, r.content_hash, r.chunks, r.ms
     from jsonb_to_recordset($2::jsonb) as r(uri text, outcome text, kind text, reason text, detail text,
                                             content_hash text, chunks int, ms double precision)
     on conflict (run_id, uri) do nothing`,
    [runId, JSON.stringify(items)],
  )
}

export async function listRuns(q: Queryable, limit = 20): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>('select * from ingest_runs order by started_at desc, id desc limit $1', [limit])
  return rows
}

export async function getRun(q: Queryable, id: string): Promise<{ run: RunRow; items: RunItem[] } | null> {
  const { rows } = await q.query<RunRow>('select * from ingest_runs where id = $1', [id])
  const run = rows[0]
  if (!run) return null
  const items = await q.query<RunItem>(
    'select uri, outcome, kind, reason, detail, content_hash, chunks, ms from ingest_run_items where run_id = $1 order by uri',
    [id],
  )
  return { run, items: items.rows }
}

/** The latest run that finished, for knowledge-base freshness. */
export async function lastCompleteRun(q: Queryable): Promise<RunRow | null> {
  const { rows } = await q.query<RunRow>(
    "select * from ingest_runs where status = 'complete' order by finished_at desc limit 1",
  )
  return rows[0] ?? null
}
