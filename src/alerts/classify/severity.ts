import type { Severity } from '../../policy/names.js'
import type { CanonicalAlert } from '../types.js'

// page | ticket | log from what the sender said, else from the catalog.
//
//  1. A resolved alert → log (context only: nothing to act on any more).
//  2. A heartbeat/meta alert (Watchdog) → log.
//  3. The sender's own level, first recognised of: labels.priority (PagerDuty P1…P5, set by humans and
//     more specific than urgency), the canonical `severity` (Alertmanager `severity` label, PagerDuty
//     urgency, generic `severity`), labels.severity, labels.urgency, labels.level:
//       page   ← critical, crit, high, urgent, emergency, fatal, alert, disaster, major, page, P0–P2, sev0–sev2, 0–2
//       ticket ← warning, warn, error, medium, moderate, average, low, minor, ticket, P3+, sev3+, 3+
//       log    ← info, informational, notice, debug, trace, none, ok, log
//     Numbers are read P-style (1 = most severe); a sender on an ascending scale should send names.
//  4. Nothing recognised → the service's catalog tier: tier 1 with a known failure class → page;
//     everything else (tier ≥ 2, class unknown, service unresolved) → ticket. An alert nobody rated is
//     never silently downgraded to log: a human should look at it at least once.

const PAGE = new Set(['critical', 'crit', 'high', 'urgent', 'emergency', 'emerg', 'fatal', 'alert', 'disaster', 'major', 'page', 'paging'])
const TICKET = new Set(['warning', 'warn', 'error', 'err', 'medium', 'moderate', 'average', 'low', 'minor', 'ticket'])
const LOG = new Set(['info', 'informational', 'information', 'notice', 'debug', 'trace', 'none', 'ok', 'log'])

/** A sender's severity word/number → ours, or null when not recognised. */
export function mapSenderSeverity(raw: string): Severity | null {
  const s = raw.trim().toLowerCase()
  if (s === '') return null
  if (PAGE.has(s)) return 'page'
  if (TICKET.has(s)) return 'ticket'
  if (LOG.has(s)) return 'log'
  // P1, p2, sev1, sev-2, SEV 3, S1, "1", "P1 - Critical"
  const num = /^(?:p|sev(?:erity)?|s)?[\s_-]*(\d+)\b/.exec(s)
  if (num) return Number(num[1]) <= 2 ? 'page' : 'ticket'
  // "Critical - P1", "high urgency"
  const word = /^[a-z]+/.exec(s)?.[0]
  if (word && word !== s) return mapSenderSeverity(word)
  return null
}

export interface SeverityDecision {
  severity: Severity
  rule: string
}

export interface SeverityInput {
  failureClass: string
  /** Catalog tier of the resolved service; null when unresolved. */
  tier: number | null
  heartbeat?: boolean
}

export function decideSeverity(alert: CanonicalAlert, input: SeverityInput): SeverityDecision {
  if (alert.status === 'resolved') return { severity: 'log', rule: 'status:resolved → log' }
  if (input.heartbeat) return { severity: 'log', rule: 'heartbeat alert → log' }
  const sources: Array<[string, string | null | undefined]> = [
    ['labels.priority', alert.labels['priority']],
    ['severity', alert.severity],
    ['labels.severity', alert.labels['severity']],
    ['labels.urgency', alert.labels['urgency']],
    ['labels.level', alert.labels['level']],
  ]
  const unrecognised: string[] = []
  for (const [where, value] of sources) {
    if (value === null || value === undefined || value.trim() === '') continue
    const mapped = mapSenderSeverity(value)
    if (mapped) return { severity: mapped, rule: `sender ${where}=${JSON.stringify(value)} → ${mapped}` }
    unrecognised.push(`${where}=${JSON.stringify(value)}`)
  }
  const why = unrecognised.length ? `unrecognised sender severity (${unrecognised.join(', ')})` : 'no sender severity'
  if (input.tier === null) return { severity: 'ticket', rule: `${why}; service unresolved → ticket` }
  if (input.tier === 1 && input.failureClass !== 'unknown') return { severity: 'page', rule: `${why}; catalog tier 1 and class ${input.failureClass} → page` }
  return { severity: 'ticket', rule: `${why}; catalog tier ${input.tier}${input.tier === 1 ? ' but class unknown' : ''} → ticket` }
}
