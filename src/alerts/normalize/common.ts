import { z } from 'zod'

// Helpers shared by the per-format normalizers. Everything here treats the payload as untrusted data:
// it bounds sizes and coerces types, but never rewrites, trims or filters text, because injected
// instructions must reach the detector (which lives elsewhere) exactly as the sender wrote them.

/**
 * Longest string kept in a canonical alert (label/annotation keys and values, name, summary, links…).
 * Alerts are stored and quoted into model prompts; a 5 MB annotation would bloat rows and crowd the
 * prompt's context window, so each string is cut to a fixed bound instead of rejecting the alert.
 */
export const ALERT_TEXT_MAX = 4000

export function truncate(s: string): string {
  if (s.length <= ALERT_TEXT_MAX) return s
  // Do not leave half of a surrogate pair at the end: it would be invalid UTF-16 once stored.
  const end = isHighSurrogate(s.charCodeAt(ALERT_TEXT_MAX - 1)) ? ALERT_TEXT_MAX - 1 : ALERT_TEXT_MAX
  return s.slice(0, end)
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** A label/annotation value: senders (Grafana, hand-written generic payloads) sometimes send numbers or booleans. */
export const ScalarValue = z.union([z.string(), z.number(), z.boolean()])
export type ScalarValue = z.infer<typeof ScalarValue>

/** A string map whose values may be scalars; they are coerced to strings by `toStringMap`. */
export const StringMap = z.record(z.string(), ScalarValue)

/**
 * Coerce values to strings and bound every key and value. Object.fromEntries defines own properties,
 * so a `__proto__` key stays plain data and cannot reach the prototype.
 */
export function toStringMap(map: Record<string, ScalarValue> | undefined | null): Record<string, string> {
  if (!map) return {}
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [truncate(k), truncate(String(v))]))
}

/** RFC 3339 timestamp, as Alertmanager, Grafana and PagerDuty send them (any fractional precision, Z or offset). */
export const Timestamp = z.iso.datetime({ offset: true })

// Go's zero time: Alertmanager and Grafana send it for "no end yet".
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z')

/**
 * Canonical timestamp: UTC with millisecond precision, so timestamps from every source compare and
 * sort as plain strings. Null for absent, unparsable or Go-zero values ("unset").
 */
export function toIso(ts: string | null | undefined): string | null {
  if (!ts) return null
  const ms = Date.parse(ts)
  if (!Number.isFinite(ms) || ms <= GO_ZERO_TIME_MS) return null
  return new Date(ms).toISOString()
}

/**
 * Links worth showing a responder. Only http(s) URLs are kept: the list is rendered as clickable links,
 * and a `javascript:` or `file:` URL from an untrusted sender must not become one. Duplicates dropped, order kept.
 */
export function httpLinks(candidates: ReadonlyArray<string | null | undefined>): string[] {
  const out: string[] = []
  for (const c of candidates) {
    if (typeof c !== 'string' || !/^https?:\/\/\S/i.test(c)) continue
    const link = truncate(c)
    if (!out.includes(link)) out.push(link)
  }
  return out
}

/**
 * JSON text of a sender's structured details, bounded. Never throws: deeply nested or cyclic values
 * (possible only when called in-process) become a placeholder rather than failing the whole alert.
 */
export function safeJson(value: unknown): string {
  try {
    return truncate(JSON.stringify(value) ?? '')
  } catch {
    return '[unserializable details]'
  }
}

/** First non-empty string among the candidates, else ''. */
export function firstText(...candidates: Array<string | undefined>): string {
  for (const c of candidates) if (c) return c
  return ''
}
