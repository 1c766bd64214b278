// Contracts between the parsers, the chunker and the pipeline. Parsers are pure: they never touch the DB.

export type SourceKind = 'runbook' | 'case_study' | 'telemetry' | 'doc'

/** A heading-structured document: what every parser produces before chunking. */
export interface Section {
  /** Heading texts from the document title down to this section, e.g. ["Orders DB disk full", "Mitigation"]. */
  headingPath: string[]
  /** Markdown-ish body text of this section (without its heading line). */
  text: string
}

export interface ParsedSource {
  /** Stable identity: file path relative to the synced root as `file://…`, a feed item's <link>, or a page URL. */
  uri: string
  kind: SourceKind
  title: string
  service: string | null
  team: string | null
  tags: string[]
  /** Kind-specific metadata (front-matter for runbooks/case studies, feed item date/categories, telemetry window…). */
  metadata: Record<string, unknown>
  /** Normalized body as ordered sections (heading structure kept). */
  sections: Section[]
  /** For telemetry only: the validated telemetry document. */
  telemetry?: TelemetrySummary
}

/** A parser either yields sources or says why the input must be quarantined; it never throws for bad input. */
export type ParseResult =
  | { ok: true; sources: ParsedSource[] }
  | { ok: false; reason: QuarantineReason; detail: string }

export type QuarantineReason =
  | 'unreadable'
  | 'empty'
  | 'binary'
  | 'oversized'
  | 'unparseable'
  | 'missing_field'
  | 'invalid_field'
  | 'unsupported_type'

export interface Chunk {
  ord: number
  headingPath: string[]
  /** Passage text as stored and shown to users (no heading prefix). */
  text: string
  /** Text that is embedded and full-text indexed: title + heading path + passage. */
  indexText: string
  /** sha256 hex of `text` joined with heading path; stable across runs. */
  contentHash: string
}

export interface TelemetrySummary {
  service: string
  window: { start: string; end: string }
  signals: Record<string, number | null>
  data_quality: {
    status: 'ok' | 'degraded' | 'unsafe'
    freshness_lag_s: number
    completeness_pct: number
    reasons: string[]
  }
  recent_changes: Array<{
    type: 'deploy' | 'flag' | 'config'
    at: string
    id: string
    description?: string
    /** deploys: the revision now live and the one before it (used by rollback proposals later). */
    revision?: string
    previous_revision?: string
  }>
  notes?: string
}
