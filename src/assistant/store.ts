import { appendAudit } from '../audit/append.js'
import type { Queryable, Transaction } from '../db/types.js'
import type { Classification, Draft, EvidencePack, Intervention, Provenance, RefusalReason } from './types.js'

// Assessments are annotations: their own table, never the knowledge tables. Each insert writes its audit
// row in the same transaction.

export interface Assessment {
  id: string
  subject: 'alert' | 'question'
  alertId: string | null
  question: string | null
  outcome: 'assessed' | 'unsure' | 'refused'
  refusalReason: RefusalReason | null
  classification: Classification | null
  draft: Draft
  evidencePack: EvidencePack
  interventions: Intervention[]
  injectionFlagged: boolean
  provenance: Provenance
  confidence: number | null
  startedAt: string
  createdAt: string
}

export function evidenceRefs(pack: EvidencePack) {
  return pack.items.map((i) => ({ ref: i.ref, kind: i.kind, chunkId: i.chunkId, contentHash: i.contentHash, sourceUri: i.sourceUri }))
}

/** Inserts unless the alert already has one (a racing duplicate delivery): returns the stored assessment id. */
export async function insertAssessment(tx: Transaction, a: Omit<Assessment, 'createdAt'>, now: Date): Promise<{ id: string; created: boolean }> {
  const p = a.provenance
  const { rows } = await tx.query<{ id: string }>(
    `insert into assessments (id, subject, alert_id, question, outcome, refusal_reason, classification, draft, evidence_pack,
        evidence_refs, interventions, injection_flagged, mode, model, prompt_id, prompt_version, prompt_sha256, fallback_reason,
        latency_ms, prompt_tokens, completion_tokens, confidence, started_at, created_at)
     values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
     on conflict (alert_id) do nothing returning id`,
    [
      a.id, a.subject, a.alertId, a.question, a.outcome, a.refusalReason, a.classification ? JSON.stringify(a.classification) : null,
      JSON.stringify(a.draft), JSON.stringify(a.evidencePack), JSON.stringify(evidenceRefs(a.evidencePack)), JSON.stringify(a.interventions),
      a.injectionFlagged, p.mode, p.model, p.promptId, p.promptVersion, p.promptSha256, p.fallbackReason, p.latencyMs,
      p.tokens?.prompt ?? null, p.tokens?.completion ?? null, a.confidence, a.startedAt, now.toISOString(),
    ],
  )
  if (rows.length === 0) {
    const existing = await tx.query<{ id: string }>('select id from assessments where alert_id = $1', [a.alertId])
    return { id: existing.rows[0]!.id, created: false }
  }
  const counts: Record<string, number> = {}
  for (const i of a.interventions) counts[i.type] = (counts[i.type] ?? 0) + 1
  await appendAudit(
    tx,
    {
      actor: 'assistant',
      action: a.subject === 'alert' ? 'assessment.created' : 'answer.created',
      subject: `assessment:${a.id}`,
      data: { alert_id: a.alertId, outcome: a.outcome, refusal_reason: a.refusalReason, mode: p.mode, model: p.model, prompt: `${p.promptId}@${p.promptVersion}`, fallback_reason: p.fallbackReason, interventions: counts, injection_flagged: a.injectionFlagged },
    },
    now,
  )
  return { id: a.id, created: true }
}

export async function getAssessment(q: Queryable, id: string): Promise<Assessment | null> {
  const { rows } = await q.query<Record<string, unknown>>('select * from assessments where id = $1', [id])
  return rows[0] ? fromRow(rows[0]) : null
}

export async function getAssessmentForAlert(q: Queryable, alertId: string): Promise<Assessment | null> {
  const { rows } = await q.query<Record<string, unknown>>('select * from assessments where alert_id = $1', [alertId])
  return rows[0] ? fromRow(rows[0]) : null
}

function fromRow(r: Record<string, unknown>): Assessment {
  const iso = (v: unknown) => new Date(v as string).toISOString()
  return {
    id: r.id as string,
    subject: r.subject as Assessment['subject'],
    alertId: (r.alert_id as string | null) ?? null,
    question: (r.question as string | null) ?? null,
    outcome: r.outcome as Assessment['outcome'],
    refusalReason: (r.refusal_reason as RefusalReason | null) ?? null,
    classification: (r.classification as Classification | null) ?? null,
    draft: r.draft as Draft,
    evidencePack: r.evidence_pack as EvidencePack,
    interventions: r.interventions as Intervention[],
    injectionFlagged: r.injection_flagged as boolean,
    provenance: {
      mode: r.mode as Provenance['mode'],
      model: r.model as string,
      promptId: r.prompt_id as string,
      promptVersion: r.prompt_version as string,
      promptSha256: r.prompt_sha256 as string,
      fallbackReason: (r.fallback_reason as string | null) ?? null,
      latencyMs: r.latency_ms as number,
      tokens: r.prompt_tokens === null ? null : { prompt: r.prompt_tokens as number, completion: r.completion_tokens as number },
    },
    confidence: (r.confidence as number | null) ?? null,
    startedAt: iso(r.started_at),
    createdAt: iso(r.created_at),
  }
}
