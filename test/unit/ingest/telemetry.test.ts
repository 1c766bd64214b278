import { describe, it, expect } from 'vitest'
import { parseTelemetry, TelemetrySummarySchema } from '../../../ingest/parse/telemetry.js'
import type { TelemetrySummary } from '../../../ingest/types.js'

const DOC: TelemetrySummary = {
  service: 'cart-api',
  window: { start: '2026-11-20T09:00:00Z', end: '2026-11-20T10:00:00Z' },
  signals: { error_rate: 0.042, p99_latency_ms: 1840, saturation: null },
  data_quality: { status: 'degraded', freshness_lag_s: 95, completeness_pct: 97.5, reasons: ['scrape gaps on 2 pods', 'late logs'] },
  recent_changes: [
    { type: 'deploy', at: '2026-11-20T09:12:00Z', id: 'deploy-8812', description: 'cart-api v2026.11.20-1', revision: 'v2026.11.20-1', previous_revision: 'v2026.11.18-3' },
    { type: 'flag', at: '2026-11-20T09:30:00Z', id: 'cart.split_shipments_v2' },
  ],
  notes: 'Heap climbing since the deploy.',
}

const parse = (doc: unknown) => parseTelemetry({ uri: 'file://telemetry/cart-api.json', content: JSON.stringify(doc) })
const without = (path: string[]): unknown => {
  const copy = structuredClone(DOC) as unknown as Record<string, Record<string, unknown>>
  if (path.length === 1) delete (copy as Record<string, unknown>)[path[0]!]
  else delete copy[path[0]!]![path[1]!]
  return copy
}

describe('parseTelemetry', () => {
  it('produces one telemetry source with the doc, metadata and readable sections', () => {
    const title = 'Telemetry summary: cart-api 2026-11-20T09:00:00Z–2026-11-20T10:00:00Z'
    expect(parse(DOC)).toEqual({
      ok: true,
      sources: [
        {
          uri: 'file://telemetry/cart-api.json',
          kind: 'telemetry',
          title,
          service: 'cart-api',
          team: null,
          tags: [],
          metadata: { window: DOC.window, data_quality: DOC.data_quality },
          telemetry: DOC,
          sections: [
            { headingPath: [title, 'Signals'], text: 'error_rate: 0.042\np99_latency_ms: 1840\nsaturation: no data' },
            {
              headingPath: [title, 'Data quality'],
              text: 'status: degraded\nfreshness lag: 95 s\ncompleteness: 97.5%\nreasons: scrape gaps on 2 pods; late logs',
            },
            {
              headingPath: [title, 'Recent changes'],
              text:
                '- 2026-11-20T09:12:00Z deploy deploy-8812: cart-api v2026.11.20-1 (revision v2026.11.20-1, previous revision v2026.11.18-3)\n' +
                '- 2026-11-20T09:30:00Z flag cart.split_shipments_v2',
            },
            { headingPath: [title, 'Notes'], text: 'Heap climbing since the deploy.' },
          ],
        },
      ],
    })
  })

  it('says so when there are no changes or signals, and omits Notes when absent', () => {
    const r = parse({ ...DOC, signals: {}, recent_changes: [], notes: undefined, data_quality: { ...DOC.data_quality, reasons: [] } })
    expect(r.ok && r.sources[0]!.sections.map((s) => [s.headingPath[1], s.text])).toEqual([
      ['Signals', 'No signals reported.'],
      ['Data quality', 'status: degraded\nfreshness lag: 95 s\ncompleteness: 97.5%\nreasons: none'],
      ['Recent changes', 'No deploys, flag or config changes in this window.'],
    ])
  })

  it('quarantines invalid JSON as unparseable', () => {
    const r = parseTelemetry({ uri: 't.json', content: '{"service": "cart-api",' })
    expect(r).toMatchObject({ ok: false, reason: 'unparseable' })
    expect(!r.ok && r.detail).toMatch(/^invalid JSON: /)
  })

  it('reports absent fields as missing_field with their paths', () => {
    expect(parse(without(['service']))).toEqual({ ok: false, reason: 'missing_field', detail: 'telemetry summary is missing "service"' })
    expect(parse(without(['data_quality', 'status']))).toEqual({
      ok: false,
      reason: 'missing_field',
      detail: 'telemetry summary is missing "data_quality.status"',
    })
    expect(parse({ service: 'x' })).toEqual({
      ok: false,
      reason: 'missing_field',
      detail: 'telemetry summary is missing "window", "signals", "data_quality", "recent_changes"',
    })
  })

  it('reports wrong values as invalid_field with their paths', () => {
    const status = parse({ ...DOC, data_quality: { ...DOC.data_quality, status: 'fine' } })
    expect(status).toMatchObject({ ok: false, reason: 'invalid_field' })
    expect(!status.ok && status.detail).toMatch(/^telemetry summary has invalid fields: data_quality\.status: /)
    const signal = parse({ ...DOC, signals: { error_rate: '4%' } })
    expect(!signal.ok && [signal.reason, signal.detail]).toEqual(['invalid_field', expect.stringContaining('signals.error_rate: ')])
    const change = parse({ ...DOC, recent_changes: [{ type: 'rollback', at: 'yesterday', id: 'x' }] })
    expect(!change.ok && change.detail).toMatch(/recent_changes\.0\.type: .*; recent_changes\.0\.at: expected an ISO-8601 timestamp/)
    expect(parse({ ...DOC, window: { start: DOC.window.end, end: DOC.window.start } })).toEqual({
      ok: false,
      reason: 'invalid_field',
      detail: 'telemetry summary has invalid fields: window: window.end is before window.start',
    })
    expect(parse([DOC])).toMatchObject({ ok: false, reason: 'invalid_field' })
  })

  it('schema accepts exactly the contract shape', () => {
    expect(TelemetrySummarySchema.parse(DOC)).toEqual(DOC)
    expect(TelemetrySummarySchema.safeParse({ ...DOC, data_quality: { ...DOC.data_quality, completeness_pct: 101 } }).success).toBe(false)
  })
})
