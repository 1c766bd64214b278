import type { Classification } from '../../assistant/types.js'
import type { Catalog } from '../../policy/catalog.js'
import type { Taxonomy } from '../../policy/taxonomy.js'
import type { CanonicalAlert } from '../types.js'
import { classifyFailure, MIN_SCORE, type FailureClassResult, type Neighbour, type SignatureRule } from './failure-class.js'
import { resolveService, type ServiceResolution } from './service.js'
import { decideSeverity } from './severity.js'

// Deterministic alert classification: service (catalog only), team, failure class, page/ticket/log and
// a confidence, with `decidedBy` saying which rule decided each field. No model, no network: the same
// alert and reference files always give the same answer.
//
// Confidence = min(0.95, 0.4 × S + 0.6 × C), rounded to 2 decimals, where
//   S (service) = the resolution's strength: exact explicit label (service/app…) 1.0, exact other label
//       0.9, normalised label 0.8, canonical name in name/summary 0.7 (alias 0.6), in description 0.55
//       (alias 0.45); unresolved 0.4 (the default team is still a legitimate destination, but a guess).
//   C (class) = for a rule decision 0.4 + 0.3 × E + 0.3 × M with evidence E = min(1, score / (2 × MIN_SCORE))
//       and margin M = (score − max(runner-up, 0)) / score; for a heartbeat 0.9 (we know what it is);
//       for any other `unknown` 0.3 (nothing supports a class).
// The 0.95 ceiling: rules read text, they cannot see the system; certainty is never claimed.

export { classifyFailure, isHeartbeat, RULES, MIN_SCORE, type Neighbour, type SignatureRule, type FailureClassResult } from './failure-class.js'
export { resolveService, candidates, SERVICE_LABEL_KEYS, type ServiceResolution } from './service.js'
export { decideSeverity, mapSenderSeverity } from './severity.js'

export interface ClassifyOptions {
  catalog: Catalog
  taxonomy: Taxonomy
  /** Nearest labelled past incidents; a bounded vote on the failure class. */
  neighbours?: readonly Neighbour[]
  /** Override the signature rules (tests, experiments). */
  rules?: readonly SignatureRule[]
}

export interface ClassificationDetail {
  classification: Classification
  service: ServiceResolution
  failure: FailureClassResult
}

const UNRESOLVED_SERVICE_STRENGTH = 0.4
const CONFIDENCE_CEILING = 0.95

export function confidenceOf(service: ServiceResolution, failure: FailureClassResult): number {
  const s = service.service === null ? UNRESOLVED_SERVICE_STRENGTH : service.strength
  let c: number
  if (failure.decision === 'heartbeat') c = 0.9
  else if (failure.failureClass === 'unknown') c = 0.3
  else {
    const evidence = Math.min(1, failure.score / (2 * MIN_SCORE))
    const margin = failure.score > 0 ? (failure.score - Math.max(failure.runnerUp?.score ?? 0, 0)) / failure.score : 0
    c = 0.4 + 0.3 * evidence + 0.3 * Math.max(0, margin)
  }
  return Math.round(Math.min(CONFIDENCE_CEILING, 0.4 * s + 0.6 * c) * 100) / 100
}

/** Classification plus the intermediate results (scores, evidence) for reports and debugging. */
export function classifyAlertDetailed(alert: CanonicalAlert, opts: ClassifyOptions): ClassificationDetail {
  const { catalog, taxonomy } = opts
  const service = resolveService(alert, catalog)
  const team = catalog.teamOf(service.service)
  const failure = classifyFailure(alert, {
    taxonomy,
    catalog,
    service: service.service,
    ...(opts.neighbours && { neighbours: opts.neighbours }),
    ...(opts.rules && { rules: opts.rules }),
  })
  const tier = service.service === null ? null : (catalog.service(service.service)?.tier ?? null)
  const severity = decideSeverity(alert, { failureClass: failure.failureClass, tier, heartbeat: failure.decision === 'heartbeat' })
  const confidence = confidenceOf(service, failure)
  const serviceWhy = service.service === null ? 'unresolved: no label value or text mention resolves in the catalog' : `${service.rule} (${JSON.stringify(service.matched ?? '')} → ${service.service})`
  const classification: Classification = {
    service: service.service,
    team,
    failureClass: failure.failureClass,
    severity: severity.severity,
    confidence,
    decidedBy: {
      service: serviceWhy,
      team: service.service === null ? `catalog default_team (service unresolved) → ${team}` : `catalog owner of ${service.service} → ${team}`,
      failureClass: failure.explanation,
      severity: severity.rule,
      confidence: `0.4×service ${service.service === null ? UNRESOLVED_SERVICE_STRENGTH : service.strength} + 0.6×class (${failure.decision}) = ${confidence}`,
    },
  }
  return { classification, service, failure }
}

export function classifyAlert(alert: CanonicalAlert, opts: ClassifyOptions): Classification {
  return classifyAlertDetailed(alert, opts).classification
}
