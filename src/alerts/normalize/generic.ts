import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { CanonicalAlert } from '../types.js'
import { ScalarValue, StringMap, Timestamp, toIso, toStringMap, truncate } from './common.js'

// Generic JSON alert: the format for senders that have no webhook format of their own (cron wrappers,
// scripts, data-quality checks). Only `title` is required; everything else has a sensible absence.

export const GenericPayload = z.looseObject({
  // Checked for content but not trimmed: text is kept verbatim.
  title: z.string().refine((t) => t.trim().length > 0, 'title must not be empty'),
  description: z.string().optional(),
  service: z.string().optional(),
  // Hand-written senders send numeric severities ("severity": 2) as often as strings.
  severity: ScalarValue.optional(),
  labels: StringMap.optional(),
  occurred_at: Timestamp.optional(),
  starts_at: Timestamp.optional(),
  fingerprint: z.string().min(1).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
})
export type GenericPayload = z.infer<typeof GenericPayload>

/**
 * Fingerprint for senders that do not give one: the same title and labels give the same alert, as in
 * Alertmanager. JSON of [title, sorted label pairs] keeps ("a", {b}) and ("ab", {}) apart; 16 hex
 * characters (64 bits) match Alertmanager's fingerprint length.
 */
export function genericFingerprint(title: string, labels: Record<string, string>): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHash('sha256').update(JSON.stringify([title, sorted])).digest('hex').slice(0, 16)
}

export function normalizeGeneric(payload: GenericPayload): CanonicalAlert[] {
  const title = truncate(payload.title)
  const labels = toStringMap(payload.labels)
  // The top-level service wins over a labels.service: it is the field the format documents.
  if (payload.service !== undefined) labels['service'] = truncate(payload.service)
  return [
    {
      source: 'generic',
      fingerprint: payload.fingerprint !== undefined ? truncate(payload.fingerprint) : genericFingerprint(title, labels),
      status: payload.status ?? 'firing',
      name: title,
      labels,
      annotations: {},
      // The format has a single headline field; it serves as both name and summary.
      summary: title,
      description: truncate(payload.description ?? ''),
      startsAt: toIso(payload.occurred_at ?? payload.starts_at),
      links: [],
      severity: payload.severity !== undefined ? truncate(String(payload.severity)) : null,
    },
  ]
}
