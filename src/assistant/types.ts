import { z } from 'zod'

// The assistant's contract, shared by both modes. A draft only ever refers to evidence by `ref` ("E3");
// the guard checks every ref against the pack the draft was built from.

export const EvidenceKind = z.enum(['alert', 'chunk', 'telemetry', 'catalog'])

export const EvidenceItem = z.object({
  ref: z.string(),
  kind: EvidenceKind,
  /** Untrusted items (alert text, document passages) are delimited and labelled as data in prompts. */
  trusted: z.boolean(),
  title: z.string(),
  text: z.string(),
  contentHash: z.string(),
  chunkId: z.number().int().nullable(),
  sourceUri: z.string().nullable(),
  sourceKind: z.string().nullable(),
  headingPath: z.array(z.string()),
  /** Extra structured facts (case-study front-matter, telemetry status…). */
  meta: z.record(z.string(), z.unknown()),
})
export type EvidenceItem = z.infer<typeof EvidenceItem>

export const TelemetryStatus = z.object({
  service: z.string(),
  status: z.enum(['ok', 'degraded', 'unsafe', 'missing', 'stale']),
  reasons: z.array(z.string()),
  windowEnd: z.string().nullable(),
  ref: z.string().nullable(),
})
export type TelemetryStatus = z.infer<typeof TelemetryStatus>

export const EvidencePack = z.object({
  items: z.array(EvidenceItem),
  telemetry: TelemetryStatus.nullable(),
  catalogSlice: z.record(z.string(), z.unknown()).nullable(),
  retrievalQuery: z.string(),
})
export type EvidencePack = z.infer<typeof EvidencePack>

const Cited = { citations: z.array(z.string()) }

export const Cause = z.object({ text: z.string(), ...Cited })
export const Step = z.object({ text: z.string(), ...Cited })
export const SimilarIncident = z.object({
  incidentId: z.string(),
  title: z.string(),
  mitigation: z.string(),
  ...Cited,
})
export const SuggestedAction = z.object({
  actionId: z.string(),
  params: z.record(z.string(), z.unknown()),
  rationale: z.string(),
  ...Cited,
})
export const Draft = z.object({
  summary: z.string(),
  causes: z.array(Cause),
  steps: z.array(Step),
  similarIncidents: z.array(SimilarIncident),
  actions: z.array(SuggestedAction),
})
export type Draft = z.infer<typeof Draft>
export type SuggestedAction = z.infer<typeof SuggestedAction>

export const Severity = z.enum(['page', 'ticket', 'log'])

export const Classification = z.object({
  service: z.string().nullable(),
  team: z.string(),
  failureClass: z.string(),
  severity: Severity,
  confidence: z.number().min(0).max(1),
  /** Which rule or neighbour decided each field: the deterministic mode's explanation. */
  decidedBy: z.record(z.string(), z.string()),
})
export type Classification = z.infer<typeof Classification>

export const InterventionType = z.enum([
  'citation_removed',
  'unsupported_statement_removed',
  'certainty_language_removed',
  'action_removed',
  'actions_withheld',
  'injection_flagged',
  'data_unsafe_refusal',
  'low_confidence',
  'schema_violation',
])
export const Intervention = z.object({ type: InterventionType, where: z.string(), detail: z.string() })
export type Intervention = z.infer<typeof Intervention>

export const RefusalReason = z.enum(['out_of_scope', 'low_confidence', 'data_unsafe'])
export type RefusalReason = z.infer<typeof RefusalReason>

export const Provenance = z.object({
  mode: z.enum(['deterministic', 'llm']),
  model: z.string(),
  promptId: z.string(),
  promptVersion: z.string(),
  promptSha256: z.string(),
  fallbackReason: z.string().nullable(),
  latencyMs: z.number(),
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int() }).nullable(),
})
export type Provenance = z.infer<typeof Provenance>
