// Telemetry summaries (JSON): validated against the TelemetrySummary contract and rendered as readable
// sections, so "is checkout-api degraded?" can be answered by full-text/vector retrieval like any document.
import { z } from 'zod'
import type { ParseResult, Section, TelemetrySummary } from '../types.js'
import { issuesToFailure } from './issues.js'

const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 timestamp')

export const TelemetrySummarySchema = z.object({
  service: z.string().trim().min(1),
  window: z
    .object({ start: timestamp, end: timestamp })
    .refine((w) => Date.parse(w.start) <= Date.parse(w.end), 'window.end is before window.start'),
  signals: z.record(z.string(), z.number().nullable()),
  data_quality: z.object({
    status: z.enum(['ok', 'degraded', 'unsafe']),
    freshness_lag_s: z.number().nonnegative(),
    completeness_pct: z.number().min(0).max(100),
    reasons: z.array(z.string()),
  }),
  recent_changes: z.array(
    z.object({
      type: z.enum(['deploy', 'flag', 'config']),
      at: timestamp,
      id: z.string().min(1),
      description: z.string().optional(),
      revision: z.string().optional(),
      previous_revision: z.string().optional(),
    }),
  ),
  notes: z.string().optional(),
})

// Compile-time proof that the schema and the hand-written contract describe the same shape both ways.
type Schema = z.infer<typeof TelemetrySummarySchema>
const _toContract = (s: Schema): TelemetrySummary => s
const _fromContract = (t: TelemetrySummary): Schema => t
void _toContract
void _fromContract

function render(t: TelemetrySummary, title: string): Section[] {
  const at = (heading: string, text: string): Section => ({ headingPath: [title, heading], text })
  const signals = Object.entries(t.signals)
  const dq = t.data_quality
  const sections = [
    at('Signals', signals.length ? signals.map(([k, v]) => `${k}: ${v ?? 'no data'}`).join('\n') : 'No signals reported.'),
    at(
      'Data quality',
      [
        `status: ${dq.status}`,
        `freshness lag: ${dq.freshness_lag_s} s`,
        `completeness: ${dq.completeness_pct}%`,
        `reasons: ${dq.reasons.length ? dq.reasons.join('; ') : 'none'}`,
      ].join('\n'),
    ),
    at(
      'Recent changes',
      t.recent_changes.length
        ? t.recent_changes
            .map((c) => {
              const revs = [c.revision && `revision ${c.revision}`, c.previous_revision && `previous revision ${c.previous_revision}`]
              const extra = revs.filter(Boolean).join(', ')
              return `- ${c.at} ${c.type} ${c.id}${c.description ? `: ${c.description}` : ''}${extra ? ` (${extra})` : ''}`
            })
            .join('\n')
        : 'No deploys, flag or config changes in this window.',
    ),
  ]
  if (t.notes?.trim()) sections.push(at('Notes', t.notes.trim()))
  return sections
}

export function parseTelemetry(input: { uri: string; content: string }): ParseResult {
  let raw: unknown
  try {
    raw = JSON.parse(input.content)
  } catch (err) {
    return { ok: false, reason: 'unparseable', detail: `invalid JSON: ${(err as Error).message}` }
  }
  const r = TelemetrySummarySchema.safeParse(raw)
  if (!r.success) return issuesToFailure('telemetry summary', r.error, raw)
  const t: TelemetrySummary = r.data
  const title = `Telemetry summary: ${t.service} ${t.window.start}–${t.window.end}`
  return {
    ok: true,
    sources: [
      {
        uri: input.uri,
        kind: 'telemetry',
        title,
        service: t.service,
        team: null,
        tags: [],
        metadata: { window: t.window, data_quality: t.data_quality },
        sections: render(t, title),
        telemetry: t,
      },
    ],
  }
}
