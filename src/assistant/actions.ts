import type { CanonicalAlert } from '../alerts/types.js'
import type { Catalog } from '../policy/catalog.js'
import { validateParams, type Policy } from '../policy/policy.js'
import type { TelemetrySummary } from '../../ingest/types.js'
import type { Classification, SuggestedAction } from './types.js'

// The actions the policy allows for this classification, with params filled ONLY from evidence in code.
// Whatever a model suggests must be one of these (the guard enforces it): a model or an injected
// instruction can never add an action or widen its params.

export interface CandidateAction {
  actionId: string
  params: Record<string, unknown>
  /** Where each param value came from, for the rationale and the reviewer. */
  sources: Record<string, string>
}

/** Recent changes count as "recent" within this window before the alert. */
const RECENT_CHANGE_MS = 6 * 60 * 60 * 1000

export function allowedActions(input: {
  classification: Classification
  alert: CanonicalAlert | null
  catalog: Catalog
  policy: Policy
  telemetry: TelemetrySummary | null
}): CandidateAction[] {
  const { classification: c, catalog, policy, telemetry, alert } = input
  if (!c.service) return []
  const svc = catalog.service(c.service)
  if (!svc) return []
  const out: CandidateAction[] = []
  for (const action of policy.actions.values()) {
    if (!action.recommendedFor.includes(c.failureClass)) continue
    if (action.appliesTo && !action.appliesTo.kinds.includes(svc.kind)) continue
    const params: Record<string, unknown> = {}
    const sources: Record<string, string> = {}
    let complete = true
    for (const [name, spec] of Object.entries(action.params)) {
      const v = fillParam(name, spec.type, { service: svc.name, alert, telemetry })
      if (v === null) {
        complete = false
        break
      }
      params[name] = v.value
      sources[name] = v.from
    }
    if (!complete) continue
    const valid = validateParams(policy, action.id, params, catalog)
    if (valid.ok) out.push({ actionId: action.id, params: { ...valid.params }, sources })
  }
  return out
}

function fillParam(
  name: string,
  type: string,
  ctx: { service: string; alert: CanonicalAlert | null; telemetry: TelemetrySummary | null },
): { value: unknown; from: string } | null {
  const labels = ctx.alert?.labels ?? {}
  if (type === 'service') return { value: ctx.service, from: 'classification' }
  const recent = (kind: 'deploy' | 'flag') => {
    const ref = ctx.alert?.startsAt ? Date.parse(ctx.alert.startsAt) : Date.now()
    return (ctx.telemetry?.recent_changes ?? [])
      .filter((ch) => ch.type === kind && ref - Date.parse(ch.at) <= RECENT_CHANGE_MS && Date.parse(ch.at) <= ref + 60_000)
      .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0]
  }
  switch (name) {
    case 'workload': {
      const w = labels.deployment ?? labels.statefulset ?? labels.container ?? ctx.service
      return { value: w, from: labels.deployment ? 'alert label deployment' : labels.statefulset ? 'alert label statefulset' : labels.container ? 'alert label container' : 'service name' }
    }
    case 'to_revision': {
      const d = recent('deploy')
      return d?.previous_revision ? { value: d.previous_revision, from: `telemetry change ${d.id}` } : null
    }
    case 'flag': {
      const f = recent('flag')
      return f ? { value: f.id, from: `telemetry change ${f.id}` } : null
    }
    case 'credential': {
      const v = labels.secret ?? labels.credential ?? labels.certificate
      return v ? { value: v, from: 'alert label' } : null
    }
    case 'partition': {
      const v = labels.partition
      return v ? { value: v, from: 'alert label partition' } : null
    }
    // Replica counts need the current count and the blast-radius factor: never guessed.
    default:
      return null
  }
}

export function toSuggested(a: CandidateAction, citations: string[], rationale: string): SuggestedAction {
  return { actionId: a.actionId, params: a.params, rationale, citations }
}
