import type { CanonicalAlert } from '../alerts/types.js'
import type { Catalog } from '../policy/catalog.js'
import type { Database } from '../db/types.js'
import type { EmbeddingProvider } from '../knowledge/embeddings/types.js'
import { searchMany, type SearchHit } from '../knowledge/search.js'
import { latestTelemetry } from '../knowledge/store.js'
import { sha256 } from '../../ingest/hash.js'
import type { EvidenceItem, EvidencePack, TelemetryStatus } from './types.js'

// Builds the evidence pack: the only material a draft may use. Items get refs E1…En in a fixed order
// (alert, catalog, telemetry, passages), so a stored pack can be replayed exactly.

/** Telemetry older than this, relative to the alert's start, is stated as stale and lowers confidence. */
export const TELEMETRY_STALE_MS = 2 * 60 * 60 * 1000
const PASSAGE_CHARS = 1200
/** ~10k chars of evidence ≈ 2.5k tokens: with the template and classification the prompt stays under 4k tokens. */
export const DEFAULT_EVIDENCE_CHARS = 10_000

export interface EvidenceDeps {
  db: Database
  embedder: EmbeddingProvider
  catalog: Catalog
  efSearch?: number
}

export function renderAlert(a: CanonicalAlert): string {
  const kv = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `  ${k}: ${v}`).join('\n')
  return [
    `alert: ${a.name}`,
    `source: ${a.source}  status: ${a.status}  severity: ${a.severity ?? 'unspecified'}  starts_at: ${a.startsAt ?? 'unknown'}`,
    `summary: ${a.summary}`,
    `description: ${a.description}`,
    `labels:\n${kv(a.labels)}`,
    `annotations:\n${kv(a.annotations)}`,
  ].join('\n')
}

function item(partial: Omit<EvidenceItem, 'ref' | 'contentHash'> & { contentHash?: string }): Omit<EvidenceItem, 'ref'> {
  return { ...partial, contentHash: partial.contentHash ?? sha256(partial.text) }
}

function fromHit(h: SearchHit, meta: Record<string, unknown>): Omit<EvidenceItem, 'ref'> {
  return item({
    kind: 'chunk',
    trusted: false,
    title: h.title,
    text: h.text.length > PASSAGE_CHARS ? `${h.text.slice(0, PASSAGE_CHARS)}…` : h.text,
    contentHash: h.contentHash,
    chunkId: h.chunkId,
    sourceUri: h.sourceUri,
    sourceKind: h.kind,
    headingPath: h.headingPath,
    meta,
  })
}

async function sourceMeta(db: Database, uris: string[]): Promise<Map<string, Record<string, unknown>>> {
  if (uris.length === 0) return new Map()
  const { rows } = await db.query<{ uri: string; metadata: Record<string, unknown> }>('select uri, metadata from sources where uri = any($1::text[])', [uris])
  return new Map(rows.map((r) => [r.uri, r.metadata]))
}

/** Retrieval for an alert or a question: runbooks (service first), case studies, then general docs. */
export async function retrievePassages(deps: EvidenceDeps, query: string, service: string | null): Promise<SearchHit[]> {
  const s = { db: deps.db, embedder: deps.embedder, efSearch: deps.efSearch }
  const plan: Array<{ kind: 'runbook' | 'case_study' | 'doc' | 'telemetry'; k: number; service?: string }> = [
    ...(service ? [{ kind: 'runbook' as const, k: 3, service }] : []),
    { kind: 'runbook', k: 3 },
    ...(service ? [{ kind: 'case_study' as const, k: 2, service }] : []),
    { kind: 'case_study', k: 3 },
    { kind: 'doc', k: 2 },
  ]
  // One searchMany, not five searches: the query's statistics and embedding are computed once, and each ranker
  // answers all five filters in one statement (bench:assess: five searches were most of an assessment's time).
  // Results are merged in plan order, so the pack is the same.
  const results = await searchMany(s, { query, mode: 'hybrid', filters: plan })
  const seen = new Set<number>()
  const out: SearchHit[] = []
  for (const h of results.flat()) {
    if (seen.has(h.chunkId)) continue
    seen.add(h.chunkId)
    out.push(h)
  }
  return out
}

export async function telemetryStatus(db: Database, service: string | null, reference: Date): Promise<{ status: TelemetryStatus | null; item: Omit<EvidenceItem, 'ref'> | null }> {
  if (!service) return { status: null, item: null }
  const t = await latestTelemetry(db, service)
  if (!t) return { status: { service, status: 'missing', reasons: ['no telemetry summary ingested for this service'], windowEnd: null, ref: null }, item: null }
  const end = new Date(t.window_end)
  const stale = reference.getTime() - end.getTime() > TELEMETRY_STALE_MS
  const dq = t.document.data_quality
  const status: TelemetryStatus = {
    service,
    status: dq.status === 'unsafe' ? 'unsafe' : stale ? 'stale' : dq.status,
    reasons: [...dq.reasons, ...(stale ? [`latest window ended ${end.toISOString()}, more than 2h before the alert`] : [])],
    windowEnd: end.toISOString(),
    ref: null,
  }
  const text = [
    `telemetry summary for ${service}, window ${t.document.window.start} to ${t.document.window.end}`,
    `data quality: ${dq.status}; freshness lag ${dq.freshness_lag_s}s; completeness ${dq.completeness_pct}%${dq.reasons.length ? `; reasons: ${dq.reasons.join('; ')}` : ''}`,
    `signals: ${Object.entries(t.document.signals).map(([k, v]) => `${k}=${v ?? 'n/a'}`).join(', ')}`,
    ...t.document.recent_changes.map((c) => `change: ${c.type} ${c.id} at ${c.at}${c.revision ? ` revision ${c.revision}` : ''}${c.previous_revision ? ` (previous ${c.previous_revision})` : ''}${c.description ? ` — ${c.description}` : ''}`),
    ...(t.document.notes ? [`notes: ${t.document.notes}`] : []),
  ].join('\n')
  return {
    status,
    item: item({ kind: 'telemetry', trusted: true, title: `Telemetry: ${service}`, text, contentHash: t.content_hash, chunkId: null, sourceUri: t.source_uri, sourceKind: 'telemetry', headingPath: [], meta: { data_quality: dq.status, recent_changes: t.document.recent_changes, signals: t.document.signals } }),
  }
}

export function catalogItem(catalog: Catalog, service: string | null): Omit<EvidenceItem, 'ref'> | null {
  const slice = service ? catalog.slice(service) : null
  if (!slice) return null
  const text = `service ${slice.service}: team ${slice.team}, tier ${slice.tier}, kind ${slice.kind}; aliases ${slice.aliases.join(', ') || 'none'}; depends on ${slice.depends_on.join(', ') || 'nothing'}; used by ${slice.dependents.join(', ') || 'nothing'}`
  return item({ kind: 'catalog', trusted: true, title: `Catalog: ${slice.service}`, text, chunkId: null, sourceUri: null, sourceKind: null, headingPath: [], meta: { ...slice } as Record<string, unknown> })
}

/** Numbers the items in order and attaches source metadata (incident ids, mitigations) to passages. */
export async function assemblePack(
  deps: EvidenceDeps,
  parts: { alert?: CanonicalAlert; question?: string; service: string | null; hits: SearchHit[]; telemetry: Awaited<ReturnType<typeof telemetryStatus>>; retrievalQuery: string },
  /** Context budget: passages past it are left out of the pack itself, so nothing unseen can be cited. */
  maxChars = DEFAULT_EVIDENCE_CHARS,
): Promise<EvidencePack> {
  const meta = await sourceMeta(deps.db, [...new Set(parts.hits.map((h) => h.sourceUri))])
  const raw: Array<Omit<EvidenceItem, 'ref'>> = []
  if (parts.alert) {
    raw.push(item({ kind: 'alert', trusted: false, title: `Alert: ${parts.alert.name}`, text: renderAlert(parts.alert), chunkId: null, sourceUri: null, sourceKind: null, headingPath: [], meta: {} }))
  }
  const cat = catalogItem(deps.catalog, parts.service)
  if (cat) raw.push(cat)
  if (parts.telemetry.item) raw.push(parts.telemetry.item)
  let used = raw.reduce((n, x) => n + x.text.length, 0)
  for (const h of parts.hits) {
    const x = fromHit(h, meta.get(h.sourceUri) ?? {})
    if (used + x.text.length > maxChars) continue
    used += x.text.length
    raw.push(x)
  }
  const items = raw.map((x, i) => ({ ...x, ref: `E${i + 1}` }))
  const tel = parts.telemetry.status ? { ...parts.telemetry.status, ref: items.find((i) => i.kind === 'telemetry')?.ref ?? null } : null
  return { items, telemetry: tel, catalogSlice: cat ? (cat.meta as Record<string, unknown>) : null, retrievalQuery: parts.retrievalQuery }
}

/** Renders the pack for a prompt: untrusted text is fenced and labelled as data. */
export function renderEvidence(pack: EvidencePack): string {
  const out: string[] = []
  for (const it of pack.items) {
    const head = `${it.ref} [${it.kind}${it.sourceKind ? `/${it.sourceKind}` : ''}] ${it.title}${it.headingPath.length ? ` > ${it.headingPath.slice(1).join(' > ')}` : ''}${it.sourceUri ? ` (${it.sourceUri})` : ''}`
    const body = it.trusted ? it.text : `<data ref="${it.ref}">\n${it.text.replace(/<\/?data\b[^>]*>/gi, '')}\n</data>`
    out.push(`${head}\n${body}`)
  }
  return out.join('\n\n')
}
