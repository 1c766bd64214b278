import type { z } from 'zod'
import type { AlertSource, CanonicalAlert } from '../types.js'
import { AlertmanagerPayload, normalizeAlertmanager } from './alertmanager.js'
import { GenericPayload, normalizeGeneric } from './generic.js'
import { GrafanaPayload, looksLikeGrafana, normalizeGrafana } from './grafana.js'
import { normalizePagerDuty, PagerDutyPayload } from './pagerduty.js'

// Entry point: webhook JSON (already parsed, any shape) → canonical alerts, or a precise error the
// HTTP layer can return as a 400. Never throws, whatever the input: a webhook sender controls it.

export { ALERT_TEXT_MAX } from './common.js'
export { AlertmanagerPayload, GenericPayload, GrafanaPayload, PagerDutyPayload }

export interface NormalizeIssue {
  /** Dotted path into the payload, e.g. `alerts.0.labels`; '' for the payload itself. */
  path: string
  message: string
}

export type NormalizeResult =
  | { ok: true; format: AlertSource; alerts: CanonicalAlert[] }
  | { ok: false; error: { code: 'invalid_payload'; message: string; issues: NormalizeIssue[] } }

const FORMATS: Record<AlertSource, { label: string; schema: z.ZodType; normalize: (p: never) => CanonicalAlert[]; needs: string }> = {
  alertmanager: { label: 'Alertmanager v4 webhook', schema: AlertmanagerPayload, normalize: normalizeAlertmanager, needs: 'an `alerts` array' },
  grafana: { label: 'Grafana unified alerting webhook', schema: GrafanaPayload, normalize: normalizeGrafana, needs: 'an `alerts` array plus orgId/state/title' },
  pagerduty: { label: 'PagerDuty v3 webhook', schema: PagerDutyPayload, normalize: normalizePagerDuty, needs: '`event.event_type`' },
  generic: { label: 'generic JSON alert', schema: GenericPayload, normalize: normalizeGeneric, needs: 'a `title` string' },
}
const ALL_FORMATS = Object.keys(FORMATS) as AlertSource[]

// Bounds on what an error reports: a payload with 10,000 bad alerts must not produce a 10,000-line 400.
const MAX_ISSUES = 20
const ISSUES_IN_MESSAGE = 3

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v)
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`
}

/**
 * Which format a payload claims to be, from its shape alone; null when it has none of the markers.
 * One answer, never a fallback chain: a broken Grafana payload (which has a `title`) must be reported
 * as broken Grafana, not silently accepted as a generic alert.
 */
export function detect(payload: unknown): AlertSource | null {
  if (!isObject(payload)) return null
  const event = payload['event']
  if (isObject(event) && Object.hasOwn(event, 'event_type')) return 'pagerduty'
  // `alerts` of any type: `{ alerts: "no" }` is a malformed Alertmanager payload, and should be told so.
  if (Object.hasOwn(payload, 'alerts')) return looksLikeGrafana(payload) ? 'grafana' : 'alertmanager'
  if (Object.hasOwn(payload, 'title')) return 'generic'
  return null
}

function toIssues(error: z.ZodError): NormalizeIssue[] {
  return error.issues.map((i) => ({ path: i.path.map((p) => String(p)).join('.'), message: i.message }))
}

function summarize(issues: NormalizeIssue[]): string {
  const shown = issues.slice(0, ISSUES_IN_MESSAGE).map((i) => `${i.path || '(root)'}: ${i.message}`)
  const more = issues.length > ISSUES_IN_MESSAGE ? ` (and ${issues.length - ISSUES_IN_MESSAGE} more)` : ''
  return shown.join('; ') + more
}

function invalid(message: string, issues: NormalizeIssue[]): NormalizeResult {
  return { ok: false, error: { code: 'invalid_payload', message, issues: issues.slice(0, MAX_ISSUES) } }
}

function parseAs(format: AlertSource, payload: unknown): NormalizeResult {
  const f = FORMATS[format]
  const parsed = f.schema.safeParse(payload)
  if (!parsed.success) {
    const issues = toIssues(parsed.error)
    return invalid(`not a valid ${f.label}: ${summarize(issues)}`, issues)
  }
  return { ok: true, format, alerts: f.normalize(parsed.data as never) }
}

function normalizeAuto(payload: unknown): NormalizeResult {
  const format = detect(payload)
  if (format) return parseAs(format, payload)
  const tried = ALL_FORMATS.map((f) => `${FORMATS[f].label} (needs ${FORMATS[f].needs})`).join(', ')
  if (!isObject(payload)) {
    return invalid(`payload is ${describe(payload)}, not a JSON object; tried ${tried}`, [{ path: '', message: `expected a JSON object, received ${describe(payload)}` }])
  }
  // No marker at all: report each format's first complaint so the sender sees what every format expects.
  const issues: NormalizeIssue[] = []
  for (const f of ALL_FORMATS) {
    const parsed = FORMATS[f].schema.safeParse(payload)
    const first = parsed.success ? undefined : toIssues(parsed.error)[0]
    if (first) issues.push({ path: first.path, message: `${f}: ${first.message}` })
  }
  return invalid(`not a recognized alert webhook; tried ${tried}`, issues)
}

/**
 * Validate a webhook payload and map it to canonical alerts. With an explicit format only that schema
 * is tried; with 'auto' the format is detected from the payload's shape (see `detect`).
 */
export function normalizeAlert(format: AlertSource | 'auto', payload: unknown): NormalizeResult {
  try {
    if (format === 'auto') return normalizeAuto(payload)
    if (!Object.hasOwn(FORMATS, format)) return invalid(`unknown alert format ${JSON.stringify(String(format).slice(0, 100))}`, [])
    return parseAs(format, payload)
  } catch {
    // Defence in depth (exotic objects from in-process callers: throwing getters, proxies). The error
    // text is not echoed: it could be long or carry the sender's data into logs.
    return invalid('payload could not be normalized', [{ path: '', message: 'unexpected error while reading the payload' }])
  }
}

/** Same source, same sender fingerprint, same start: the same alert instance, whatever the delivery. */
export function dedupKey(a: CanonicalAlert): string {
  return `${a.source}:${a.fingerprint}:${a.startsAt ?? ''}`
}
