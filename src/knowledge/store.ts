import type { ParsedSource, TelemetrySummary } from '../../ingest/types.js'
import type { Queryable } from '../db/types.js'

// Raw SQL for the knowledge tables. Every function takes a queryable, so callers compose them into one
// transaction. (The ingestion pipeline writes a source, its chunks and its run item as one statement of its own:
// ingest/index-source.ts.)

export interface StoredSource {
  id: number
  uri: string
  kind: string
  origin: string
  content_hash: string
  embedding_model: string
  status: 'active' | 'tombstoned'
}

export async function findSource(q: Queryable, uri: string): Promise<StoredSource | null> {
  const { rows } = await q.query<StoredSource>(
    'select id, uri, kind, origin, content_hash, embedding_model, status from sources where uri = $1',
    [uri],
  )
  return rows[0] ?? null
}

/**
 * The sources upsert, returning the row's id. Parameters $1–$11: sourceParams(). Also embedded verbatim in the
 * pipeline's one-statement write of a source (ingest/index-source.ts), so both write a source the same way.
 */
export const UPSERT_SOURCE_SQL = `insert into sources (uri, kind, origin, title, service, team, tags, metadata, content_hash, embedding_model,
                          status, created_run_id, updated_run_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $11)
     on conflict (uri) do update set
       kind = excluded.kind, origin = excluded.origin, title = excluded.title, service = excluded.service,
       team = excluded.team, tags = excluded.tags, metadata = excluded.metadata, content_hash = excluded.content_hash,
       embedding_model = excluded.embedding_model, status = 'active', updated_run_id = excluded.updated_run_id,
       updated_at = now(), tombstoned_at = null
     returning id`

export interface SourceMeta {
  origin: string
  contentHash: string
  embeddingModel: string
  runId: string
}

/** UPSERT_SOURCE_SQL's $1–$11. */
export function sourceParams(src: ParsedSource, meta: SourceMeta): unknown[] {
  return [src.uri, src.kind, meta.origin, src.title, src.service, src.team, src.tags, JSON.stringify(src.metadata), meta.contentHash, meta.embeddingModel, meta.runId]
}

export async function upsertSource(q: Queryable, src: ParsedSource, meta: SourceMeta): Promise<number> {
  const { rows } = await q.query<{ id: number }>(UPSERT_SOURCE_SQL, sourceParams(src, meta))
  return rows[0]!.id
}

/** A source's telemetry summary replaces its previous one (shared with ingest/index-source.ts). */
export const TELEMETRY_ON_CONFLICT_SQL = `on conflict (source_id) do update set service = excluded.service, window_start = excluded.window_start,
       window_end = excluded.window_end, data_quality_status = excluded.data_quality_status,
       document = excluded.document, content_hash = excluded.content_hash, ingested_at = now()`

export async function upsertTelemetry(q: Queryable, sourceId: number, t: TelemetrySummary, contentHash: string): Promise<void> {
  await q.query(
    `insert into telemetry_summaries (source_id, service, window_start, window_end, data_quality_status, document, content_hash)
     values ($1, $2, $3, $4, $5, $6, $7)
     ${TELEMETRY_ON_CONFLICT_SQL}`,
    [sourceId, t.service, t.window.start, t.window.end, t.data_quality.status, JSON.stringify(t), contentHash],
  )
}

/** Active sources of an origin that a complete sync did not see: they disappeared upstream. */
export async function listActiveUris(q: Queryable, origin: string): Promise<string[]> {
  const { rows } = await q.query<{ uri: string }>("select uri from sources where origin = $1 and status = 'active'", [origin])
  return rows.map((r) => r.uri)
}

/** Tombstones keep the source row (history, citations by hash) but remove it from retrieval and telemetry. */
export async function tombstoneSource(q: Queryable, uri: string, runId: string): Promise<boolean> {
  const { rows } = await q.query<{ id: number }>(
    `update sources set status = 'tombstoned', tombstoned_at = now(), updated_at = now(), updated_run_id = $2
     where uri = $1 and status = 'active' returning id`,
    [uri, runId],
  )
  const id = rows[0]?.id
  if (id === undefined) return false
  await q.query('delete from chunks where source_id = $1', [id])
  await q.query('delete from telemetry_summaries where source_id = $1', [id])
  return true
}

export interface LatestTelemetry {
  service: string
  window_start: Date
  window_end: Date
  data_quality_status: 'ok' | 'degraded' | 'unsafe'
  document: TelemetrySummary
  source_uri: string
  content_hash: string
}

/** The fail-closed gate's input: the most recent telemetry window per service. */
export async function latestTelemetry(q: Queryable, service: string): Promise<LatestTelemetry | null> {
  const { rows } = await q.query<LatestTelemetry>(
    `select t.service, t.window_start, t.window_end, t.data_quality_status, t.document, s.uri as source_uri, t.content_hash
     from telemetry_summaries t join sources s on s.id = t.source_id
     where t.service = $1 and s.status = 'active'
     order by t.window_end desc limit 1`,
    [service],
  )
  return rows[0] ?? null
}
