import path from 'node:path'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { insertAssessment } from '../../../src/assistant/store.js'
import type { EvidencePack, SuggestedAction } from '../../../src/assistant/types.js'
import type { ApprovalDeps, Identity } from '../../../src/approvals/types.js'
import type { Database } from '../../../src/db/types.js'
import { upsertSource, upsertTelemetry } from '../../../src/knowledge/store.js'
import { loadReference } from '../../../src/policy/reference.js'
import { sha256 } from '../../../ingest/hash.js'
import type { TelemetrySummary } from '../../../ingest/types.js'
import { amPayload } from '../../helpers/alerts.js'
import { REPO_ROOT } from '../../helpers/cli.js'

// Shared set-up for the approval tests: the shared evaluation reference (same actions and roles as the demo
// policy for everything tested here), telemetry rows written directly, and stored alerts + assessments whose
// drafts carry the suggested actions under test.

export const reference = loadReference({
  catalogPath: path.join(REPO_ROOT, '../shared/evals/reference/catalog.yaml'),
  taxonomyPath: path.join(REPO_ROOT, '../shared/evals/reference/taxonomy.yaml'),
  policyPath: path.join(REPO_ROOT, '../shared/evals/reference/policy.yaml'),
})
export const demoReference = loadReference({
  catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
  taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
  policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
})

export const human = (id: string, ...roles: string[]): Identity => ({ id, roles, kind: 'human' })
export const ONCALL = human('olivia', 'oncall')
export const SRE = human('sam', 'sre')
export const SRE2 = human('sasha', 'sre')
export const LEAD = human('lee', 'oncall-lead')
export const DBA = human('dana', 'dba')
export const IC = human('ivan', 'incident-commander')
export const ASSISTANT: Identity = { id: 'assistant', roles: ['sre', 'oncall-lead'], kind: 'assistant' }

export function depsFor(db: Database, clock?: () => Date): ApprovalDeps {
  return { db, reference, ...(clock ? { clock } : {}) }
}

let telemetrySeq = 0
/** A NEW telemetry row (its own source) for a service; the latest window_end wins in latestTelemetry. */
export async function seedTelemetry(
  db: Database,
  service: string,
  opts: { status?: 'ok' | 'degraded' | 'unsafe'; windowEnd?: Date; signals?: Record<string, number | null>; changes?: TelemetrySummary['recent_changes']; reasons?: string[] } = {},
): Promise<TelemetrySummary> {
  const end = opts.windowEnd ?? new Date()
  const doc: TelemetrySummary = {
    service,
    window: { start: new Date(end.getTime() - 3600_000).toISOString(), end: end.toISOString() },
    signals: opts.signals ?? { error_rate: 0.01 },
    data_quality: { status: opts.status ?? 'ok', freshness_lag_s: 30, completeness_pct: opts.status === 'unsafe' ? 40 : 100, reasons: opts.reasons ?? (opts.status === 'unsafe' ? ['exporter gap: 60% of series missing'] : []) },
    recent_changes: opts.changes ?? [],
  }
  const text = JSON.stringify(doc)
  const uri = `file:///approvals-test/telemetry/${service}-${++telemetrySeq}.json`
  const sourceId = await upsertSource(
    db,
    { uri, kind: 'telemetry', title: `Telemetry ${service}`, service, team: null, tags: [], metadata: {}, sections: [], telemetry: doc },
    { origin: 'file:///approvals-test/telemetry', contentHash: sha256(text), embeddingModel: 'local-hash-v1', runId: 'run_test' },
  )
  await upsertTelemetry(db, sourceId, doc, sha256(text))
  return doc
}

let alertSeq = 0
/** A stored alert plus an assessment whose draft suggests `actions`; evidence E1 = alert, E2 = telemetry. */
export async function seedAssessment(
  db: Database,
  opts: { service: string; actions: Array<Omit<SuggestedAction, 'rationale' | 'citations'> & Partial<SuggestedAction>>; telemetry?: TelemetrySummary; fingerprint?: string; outcome?: 'assessed' | 'unsure' | 'refused' },
): Promise<{ alertId: string; assessmentId: string }> {
  const n = ++alertSeq
  const r = await receiveAlerts({ db }, { format: 'alertmanager', payload: amPayload({ name: 'HighErrorRate', labels: { service: opts.service }, summary: `${opts.service} errors`, description: 'error rate above SLO', fingerprint: opts.fingerprint ?? `fp${String(n).padStart(6, '0')}`, startsAt: new Date(Date.now() - n * 1000).toISOString() }) })
  if (!r.ok) throw new Error(r.error.message)
  const alertId = r.alerts[0]!.alertId
  const t = opts.telemetry
  const pack: EvidencePack = {
    items: [
      { ref: 'E1', kind: 'alert', trusted: false, title: 'Alert: HighErrorRate', text: `${opts.service} error rate above SLO`, contentHash: sha256(`alert${n}`), chunkId: null, sourceUri: null, sourceKind: null, headingPath: [], meta: {} },
      ...(t ? [{ ref: 'E2', kind: 'telemetry' as const, trusted: true, title: `Telemetry: ${opts.service}`, text: `telemetry for ${opts.service}`, contentHash: sha256(JSON.stringify(t)), chunkId: null, sourceUri: null, sourceKind: 'telemetry', headingPath: [], meta: { data_quality: t.data_quality.status, recent_changes: t.recent_changes, signals: t.signals } }] : []),
    ],
    telemetry: t ? { service: opts.service, status: t.data_quality.status, reasons: t.data_quality.reasons, windowEnd: t.window.end, ref: 'E2' } : null,
    catalogSlice: null,
    retrievalQuery: 'test',
  }
  const assessmentId = `as_test${String(n).padStart(6, '0')}`
  await db.transaction((tx) =>
    insertAssessment(tx, {
      id: assessmentId, subject: 'alert', alertId, question: null, outcome: opts.outcome ?? 'assessed', refusalReason: null,
      classification: { service: opts.service, team: 'test', failureClass: 'resource_exhaustion', severity: 'page', confidence: 0.9, decidedBy: {} },
      draft: { summary: 'test', causes: [], steps: [], similarIncidents: [], actions: opts.actions.map((a) => ({ rationale: `because E1 (${a.actionId})`, citations: ['E1'], ...a })) },
      evidencePack: pack, interventions: [], injectionFlagged: false,
      provenance: { mode: 'deterministic', model: 'warden-rules-v1', promptId: 'assess-alert', promptVersion: '1', promptSha256: '0'.repeat(64), fallbackReason: null, latencyMs: 1, tokens: null },
      confidence: 0.9, startedAt: new Date().toISOString(),
    }, new Date()),
  )
  return { alertId, assessmentId }
}

export const count = async (db: Database, sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n

export async function auditActions(db: Database, proposalId: string): Promise<string[]> {
  const { rows } = await db.query<{ action: string }>('select action from audit_log where subject = $1 order by seq', [`proposal:${proposalId}`])
  return rows.map((r) => r.action)
}
