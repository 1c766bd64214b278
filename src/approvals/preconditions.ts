import { TELEMETRY_STALE_MS } from '../assistant/evidence.js'
import type { EvidencePack } from '../assistant/types.js'
import type { Queryable } from '../db/types.js'
import { latestTelemetry, type LatestTelemetry } from '../knowledge/store.js'
import type { Catalog } from '../policy/catalog.js'
import type { PreconditionName } from '../policy/names.js'
import type { PolicyAction } from '../policy/policy.js'

// The named checks a policy action lists under `preconditions`, evaluated when a proposal is opened and again
// at every approval, against the proposal's evidence (the assessment's pack, when there is one) and the LATEST
// telemetry: the world may have changed since the assistant looked. Every check fails closed — missing
// telemetry or a missing signal is a failure with a reason, never a pass.

export interface PreconditionResult {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

export interface PreconditionContext {
  /** The action's target service (its first `service` param), already canonical. */
  readonly service: string | null
  readonly params: Readonly<Record<string, unknown>>
  readonly catalog: Catalog
  readonly evidence: EvidencePack | null
  readonly telemetry: LatestTelemetry | null
  readonly now: Date
}

/** A deploy counts as recent within this window before the evidence's time (as the assistant's candidates do). */
export const RECENT_DEPLOY_MS = 6 * 60 * 60 * 1000
export const MAX_REPLICATION_LAG_S = 30

type Check = (c: PreconditionContext) => { ok: boolean; detail: string }
const fail = (detail: string) => ({ ok: false, detail })
const pass = (detail: string) => ({ ok: true, detail })

/** No telemetry, or no service to look it up for: the shared first step of the telemetry checks. */
function telemetryOf(c: PreconditionContext): LatestTelemetry | string {
  if (!c.service) return 'the action names no service to check telemetry for'
  return c.telemetry ?? `no telemetry summary ingested for ${c.service}`
}

interface Change { type?: unknown; at?: unknown; id?: unknown; revision?: unknown; previous_revision?: unknown }

/** Deploys the evidence shows, each with the time of the window that reported it. */
function deploysInEvidence(c: PreconditionContext): Array<{ change: Change; windowEnd: number; from: string }> {
  const out: Array<{ change: Change; windowEnd: number; from: string }> = []
  const packEnd = Date.parse(c.evidence?.telemetry?.windowEnd ?? '') || c.now.getTime()
  for (const item of c.evidence?.items ?? []) {
    if (item.kind !== 'telemetry' || !Array.isArray(item.meta.recent_changes)) continue
    for (const ch of item.meta.recent_changes as Change[]) out.push({ change: ch, windowEnd: packEnd, from: `evidence ${item.ref}` })
  }
  if (c.telemetry) for (const ch of c.telemetry.document.recent_changes) out.push({ change: ch, windowEnd: new Date(c.telemetry.window_end).getTime(), from: 'latest telemetry' })
  return out.filter((d) => d.change.type === 'deploy' && typeof d.change.at === 'string')
}

const CHECKS = {
  service_known: (c) => {
    if (!c.service) return fail('the action names no service')
    const s = c.catalog.service(c.service)
    return s ? pass(`${s.name} is in the catalog (team ${s.team}, kind ${s.kind})`) : fail(`${c.service} is not in the catalog`)
  },
  telemetry_safe: (c) => {
    const t = telemetryOf(c)
    if (typeof t === 'string') return fail(`${t}; cannot show the data is safe`)
    const dq = t.document.data_quality
    if (t.data_quality_status === 'unsafe') return fail(`latest telemetry for ${t.service} is unsafe: ${dq.reasons.join('; ') || 'flagged unsafe'}`)
    return pass(`latest telemetry for ${t.service} (window ending ${new Date(t.window_end).toISOString()}) is ${t.data_quality_status}`)
  },
  telemetry_fresh: (c) => {
    const t = telemetryOf(c)
    if (typeof t === 'string') return fail(t)
    const end = new Date(t.window_end)
    const ageMs = c.now.getTime() - end.getTime()
    if (ageMs > TELEMETRY_STALE_MS) return fail(`latest telemetry for ${t.service} ended ${end.toISOString()}, ${Math.round(ageMs / 60_000)} min ago (limit ${TELEMETRY_STALE_MS / 60_000} min)`)
    return pass(`latest telemetry for ${t.service} ended ${end.toISOString()}`)
  },
  replication_lag_below_30s: (c) => {
    const t = telemetryOf(c)
    if (typeof t === 'string') return fail(t)
    // A lag figure from data flagged unsafe says nothing about the replica.
    if (t.data_quality_status === 'unsafe') return fail(`latest telemetry for ${t.service} is unsafe; its replication lag is not trusted`)
    const lag = t.document.signals.replication_lag_s
    if (typeof lag !== 'number' || !Number.isFinite(lag)) return fail(`latest telemetry for ${t.service} has no replication_lag_s signal`)
    return lag < MAX_REPLICATION_LAG_S ? pass(`replication lag ${lag}s < ${MAX_REPLICATION_LAG_S}s`) : fail(`replication lag ${lag}s ≥ ${MAX_REPLICATION_LAG_S}s`)
  },
  recent_deploy_in_evidence: (c) => {
    const target = typeof c.params.to_revision === 'string' ? c.params.to_revision : null
    const deploys = deploysInEvidence(c)
    const recent = deploys.filter((d) => {
      const at = Date.parse(String(d.change.at))
      return d.windowEnd - at <= RECENT_DEPLOY_MS && at <= d.windowEnd + 60_000
    })
    if (recent.length === 0) return fail(deploys.length ? `no deploy within ${RECENT_DEPLOY_MS / 3_600_000}h of the evidence window (${deploys.length} older)` : 'no deploy in the evidence')
    // A rollback target must be a revision the evidence names, not one the model or a person typed.
    const match = target === null ? recent[0] : recent.find((d) => d.change.previous_revision === target)
    if (!match) return fail(`no recent deploy in the evidence rolls back to ${target} (previous revisions: ${recent.map((d) => String(d.change.previous_revision ?? '?')).join(', ')})`)
    return pass(`deploy ${String(match.change.id)} at ${String(match.change.at)} (${match.from})${target ? `, previous revision ${target}` : ''}`)
  },
} satisfies Record<PreconditionName, Check>

/** Pure: evaluates the named checks plus the blast-radius scale factor (which needs the live replica count). */
export function evaluatePreconditions(names: readonly string[], action: Pick<PolicyAction, 'blastRadius'>, c: PreconditionContext): PreconditionResult[] {
  const out = names.map((name): PreconditionResult => {
    const check = (CHECKS as Record<string, Check | undefined>)[name]
    // Unknown names are rejected at policy load; a stored proposal from an older policy still fails closed.
    return { name, ...(check ? check(c) : fail(`precondition ${name} is not implemented`)) }
  })
  const factor = action.blastRadius.maxScaleFactor
  if (factor !== null && typeof c.params.replicas === 'number') out.push({ name: 'blast_radius.max_scale_factor', ...scaleFactor(c, c.params.replicas, factor) })
  return out
}

function scaleFactor(c: PreconditionContext, replicas: number, factor: number) {
  const t = telemetryOf(c)
  if (typeof t === 'string') return fail(`${t}; the current replica count is unknown`)
  const current = t.document.signals.replicas
  if (typeof current !== 'number' || current <= 0) return fail(`latest telemetry for ${t.service} has no replicas signal; the scale factor cannot be checked`)
  const ratio = Math.max(replicas / current, current / replicas)
  return ratio <= factor ? pass(`${current} → ${replicas} replicas (×${ratio.toFixed(2)} ≤ ×${factor})`) : fail(`${current} → ${replicas} replicas is ×${ratio.toFixed(2)}, above max_scale_factor ${factor}`)
}

/** The action's target service: its first `service` param (validateParams has made it canonical). */
export function targetService(action: Pick<PolicyAction, 'params'>, params: Readonly<Record<string, unknown>>): string | null {
  for (const [name, spec] of Object.entries(action.params)) if (spec.type === 'service' && typeof params[name] === 'string') return params[name] as string
  return null
}

/** Loads the latest telemetry for the target service and evaluates. */
export async function checkPreconditions(
  q: Queryable,
  input: { names: readonly string[]; action: Pick<PolicyAction, 'params' | 'blastRadius'>; params: Readonly<Record<string, unknown>>; catalog: Catalog; evidence: EvidencePack | null; now: Date },
): Promise<PreconditionResult[]> {
  const service = targetService(input.action, input.params)
  const telemetry = service ? await latestTelemetry(q, service) : null
  return evaluatePreconditions(input.names, input.action, { service, params: input.params, catalog: input.catalog, evidence: input.evidence, telemetry, now: input.now })
}
