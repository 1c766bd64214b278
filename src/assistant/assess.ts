import { z } from 'zod'
import { classifyAlert } from '../alerts/classify/index.js'
import { getAlert, newId } from '../alerts/receive.js'
import type { CanonicalAlert } from '../alerts/types.js'
import type { Database } from '../db/types.js'
import type { EmbeddingProvider } from '../knowledge/embeddings/types.js'
import type { Reference } from '../policy/reference.js'
import { validateParams } from '../policy/policy.js'
import type { TelemetrySummary } from '../../ingest/types.js'
import { allowedActions } from './actions.js'
import { deterministicDraft } from './draft.js'
import { assemblePack, renderEvidence, retrievePassages, telemetryStatus } from './evidence.js'
import { detectInjection, guardDraft, type InjectionFinding } from './guard/index.js'
import { splitPrompt, type LlmClient } from './llm.js'
import { loadPrompt, renderPrompt } from './prompts.js'
import { getAssessmentForAlert, insertAssessment, type Assessment } from './store.js'
import type { Classification, Draft, EvidencePack, Intervention, Provenance } from './types.js'

// Alert → evidence pack → draft (llm or deterministic) → guard → stored annotation. The guard is the same
// code for both modes; the model only ever sees the pack and can only pick among code-computed actions.

export interface AssistantDeps {
  db: Database
  embedder: EmbeddingProvider
  reference: Reference
  llm: LlmClient | null
  clock?: () => Date
  settings?: { minConfidence?: number; evidenceChars?: number; efSearch?: number }
}

export const DETERMINISTIC_MODEL = 'warden-rules-v1'
export const DEFAULT_MIN_CONFIDENCE = 0.5

/** What the model returns; params travel as a JSON string so strict JSON-schema servers accept the shape. */
export const LlmDraft = z.object({
  summary: z.string(),
  causes: z.array(z.object({ text: z.string(), citations: z.array(z.string()) })),
  steps: z.array(z.object({ text: z.string(), citations: z.array(z.string()) })),
  similarIncidents: z.array(z.object({ incidentId: z.string(), title: z.string(), mitigation: z.string(), citations: z.array(z.string()) })),
  actions: z.array(z.object({ actionId: z.string(), params: z.string(), rationale: z.string(), citations: z.array(z.string()) })),
})

export interface Gathered {
  alert: CanonicalAlert
  classification: Classification
  pack: EvidencePack
  injection: InjectionFinding[]
}

export async function gatherEvidence(deps: AssistantDeps, alert: CanonicalAlert): Promise<Gathered> {
  const { catalog, taxonomy } = deps.reference
  const first = classifyAlert(alert, { catalog, taxonomy })
  const query = [alert.name.replace(/([a-z])([A-Z])/g, '$1 $2'), alert.summary, alert.description].filter(Boolean).join('. ').slice(0, 1500)
  const evDeps = { db: deps.db, embedder: deps.embedder, catalog, efSearch: deps.settings?.efSearch }
  const reference = alert.startsAt ? new Date(alert.startsAt) : (deps.clock?.() ?? new Date())
  // Independent reads (the telemetry lookup needs only the service): at once, on pooled connections.
  const [hits, telemetry] = await Promise.all([retrievePassages(evDeps, query, first.service), telemetryStatus(deps.db, first.service, reference)])
  const pack = await assemblePack(evDeps, { alert, service: first.service, hits, telemetry, retrievalQuery: query }, deps.settings?.evidenceChars)
  // Nearest labelled past incidents vote on the class (bounded inside the classifier).
  const neighbours = pack.items
    .filter((i) => i.sourceKind === 'case_study' && typeof i.meta.failure_class === 'string')
    .map((i, rank) => ({ failureClass: String(i.meta.failure_class), incidentId: String(i.meta.incident_id ?? i.sourceUri), similarity: 1 / (rank + 1) }))
  let classification = classifyAlert(alert, { catalog, taxonomy, neighbours })
  classification = adjustForTelemetry(classification, pack)
  const injection = detectInjection([
    { where: 'alert.name', text: alert.name },
    { where: 'alert.summary', text: alert.summary },
    { where: 'alert.description', text: alert.description },
    ...Object.entries(alert.labels).map(([k, v]) => ({ where: `alert.labels.${k}`, text: v })),
    ...Object.entries(alert.annotations).map(([k, v]) => ({ where: `alert.annotations.${k}`, text: v })),
    ...pack.items.filter((i) => i.kind === 'chunk').map((i) => ({ where: `${i.ref} ${i.sourceUri}`, text: `${i.title}\n${i.text}` })),
  ])
  return { alert, classification, pack, injection }
}

/** Missing, stale or degraded telemetry is stated in the pack and lowers confidence. */
function adjustForTelemetry(c: Classification, pack: EvidencePack): Classification {
  const t = pack.telemetry
  if (!t || !c.service) return c
  const penalty = { ok: 0, degraded: 0.15, stale: 0.1, missing: 0.1, unsafe: 0 }[t.status]
  if (!penalty) return c
  return { ...c, confidence: Math.max(0, Math.round((c.confidence - penalty) * 100) / 100), decidedBy: { ...c.decidedBy, confidence: `${c.decidedBy.confidence ?? ''} − ${penalty} (telemetry ${t.status})`.trim() } }
}

export interface Drafted {
  draft: Draft
  interventions: Intervention[]
  outcome: Assessment['outcome']
  refusalReason: Assessment['refusalReason']
  provenance: Provenance
}

/** From a pack to a guarded draft. Also the replay entry point: same pack + same prompt version → same draft. */
export async function draftFromPack(deps: AssistantDeps, g: Gathered, opts: { useLlm?: boolean } = {}): Promise<Drafted> {
  const t0 = performance.now()
  const { catalog, taxonomy, policy } = deps.reference
  const prompt = loadPrompt('assess-alert')
  const telDoc = telemetryDoc(g.pack)
  const candidates = allowedActions({ classification: g.classification, alert: g.alert, catalog, policy, telemetry: telDoc })
  let draft = deterministicDraft({ alert: g.alert, classification: g.classification, pack: g.pack, candidates, taxonomy })
  const provenance: Provenance = { mode: 'deterministic', model: DETERMINISTIC_MODEL, promptId: prompt.id, promptVersion: prompt.version, promptSha256: prompt.sha256, fallbackReason: null, latencyMs: 0, tokens: null }
  const pre: Intervention[] = []
  if (deps.llm && opts.useLlm !== false) {
    const rendered = renderPrompt(prompt, {
      classification: JSON.stringify({ service: g.classification.service, team: g.classification.team, failure_class: g.classification.failureClass, severity: g.classification.severity, confidence: g.classification.confidence }),
      telemetry: g.pack.telemetry ? `${g.pack.telemetry.status}${g.pack.telemetry.reasons.length ? `: ${g.pack.telemetry.reasons.join('; ')}` : ''}` : 'no service resolved',
      allowed_actions: candidates.length ? candidates.map((a) => `- ${a.actionId} ${JSON.stringify(a.params)}`).join('\n') : '(none)',
      evidence: renderEvidence(g.pack),
    })
    const res = await deps.llm.structured(LlmDraft, splitPrompt(rendered), 'warden_assessment')
    provenance.tokens = res.tokens
    if (res.ok) {
      provenance.mode = 'llm'
      provenance.model = deps.llm.model
      draft = { ...res.value, actions: [] }
      for (const [i, a] of res.value.actions.entries()) {
        const params = parseParams(a.params)
        if (params) draft.actions.push({ ...a, params })
        else pre.push({ type: 'schema_violation', where: `actions[${i}]`, detail: 'params is not a JSON object' })
      }
    } else {
      provenance.fallbackReason = `${res.reason}: ${res.detail}`.slice(0, 500)
    }
  }
  const guarded = guardDraft({
    draft,
    pack: g.pack,
    validateAction: (a) => validateParams(policy, a.actionId, a.params, catalog),
    allowedActions: candidates.map((c) => ({ actionId: c.actionId, params: c.params })),
    injection: g.injection,
    confidence: g.classification.confidence,
    minConfidence: deps.settings?.minConfidence ?? DEFAULT_MIN_CONFIDENCE,
    telemetryUnsafe: g.pack.telemetry?.status === 'unsafe',
  })
  provenance.latencyMs = Math.round((performance.now() - t0) * 10) / 10
  const unsure = g.classification.confidence < (deps.settings?.minConfidence ?? DEFAULT_MIN_CONFIDENCE)
  const outcome: Assessment['outcome'] = guarded.refused ? 'refused' : unsure ? 'unsure' : 'assessed'
  let finalDraft = guarded.draft
  if (guarded.refused === 'data_unsafe') {
    finalDraft = { ...finalDraft, summary: `Refusing to assess from unsafe telemetry for ${g.pack.telemetry?.service}: ${g.pack.telemetry?.reasons.join('; ') || 'data quality flagged unsafe'}. Check the data pipeline before acting.`, actions: [] }
  } else if (outcome !== 'assessed') {
    finalDraft = { ...finalDraft, summary: `Unsure: the evidence is weak for this alert (missing or ambiguous signals); treat everything below as leads only. ${finalDraft.summary}` }
  }
  return { draft: finalDraft, interventions: [...pre, ...guarded.interventions], outcome, refusalReason: guarded.refused, provenance }
}

function parseParams(s: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(s) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export function telemetryDoc(pack: EvidencePack): TelemetrySummary | null {
  const t = pack.items.find((i) => i.kind === 'telemetry')
  if (!t || !pack.telemetry) return null
  return {
    service: pack.telemetry.service,
    window: { start: '', end: pack.telemetry.windowEnd ?? '' },
    signals: (t.meta.signals ?? {}) as TelemetrySummary['signals'],
    data_quality: { status: t.meta.data_quality as 'ok', freshness_lag_s: 0, completeness_pct: 0, reasons: pack.telemetry.reasons },
    recent_changes: (t.meta.recent_changes ?? []) as TelemetrySummary['recent_changes'],
  }
}

/** Assesses a stored alert once; a second call (duplicate delivery, retry, another replica) returns the first. */
export async function assessAlert(deps: AssistantDeps, alertId: string): Promise<Assessment> {
  const [existing, alert] = await Promise.all([getAssessmentForAlert(deps.db, alertId), getAlert(deps.db, alertId)])
  if (existing) return existing
  if (!alert) throw new Error(`alert ${alertId} not found`)
  const started = deps.clock?.() ?? new Date()
  const t0 = performance.now()
  const g = await gatherEvidence(deps, alert)
  const d = await draftFromPack(deps, g)
  d.provenance.latencyMs = Math.round((performance.now() - t0) * 10) / 10
  const assessment: Omit<Assessment, 'createdAt'> = {
    id: newId('as'),
    subject: 'alert',
    alertId,
    question: null,
    outcome: d.outcome,
    refusalReason: d.refusalReason,
    classification: g.classification,
    draft: d.draft,
    evidencePack: g.pack,
    interventions: d.interventions,
    // The draft's guard also scans the pack's front-matter/metadata; either finding withholds actions.
    injectionFlagged: g.injection.length > 0 || d.interventions.some((i) => i.type === 'injection_flagged'),
    provenance: d.provenance,
    confidence: g.classification.confidence,
    startedAt: started.toISOString(),
  }
  const now = deps.clock?.() ?? new Date()
  const stored = await deps.db.transaction((tx) => insertAssessment(tx, assessment, now))
  // Ours was stored: it is what we hold (created_at is `now`). Otherwise another worker's won the alert: return that.
  if (stored.created) return { ...assessment, createdAt: now.toISOString() }
  return (await getAssessmentForAlert(deps.db, alertId)) ?? { ...assessment, id: stored.id, createdAt: now.toISOString() }
}
