import { describe, expect, it } from 'vitest'
import { parseSource } from '../../../ingest/parse/index.js'

// Files at the top of a synced directory get URIs like file://cart-api.json, whose "host" would swallow the
// file name if parsed as a URL: the extension must still route them to the right parser.
describe('parseSource routes by the extension of our relative file:// URIs', () => {
  const telemetry = JSON.stringify({
    service: 'cart-api',
    window: { start: '2026-11-21T13:00:00Z', end: '2026-11-21T14:00:00Z' },
    signals: { error_rate: 0.01 },
    data_quality: { status: 'ok', freshness_lag_s: 10, completeness_pct: 100, reasons: [] },
    recent_changes: [],
  })
  it('reads a top-level telemetry file as telemetry', () => {
    const r = parseSource({ uri: 'file://cart-api.json', content: Buffer.from(telemetry), maxBytes: 1 << 20 })
    expect(r.ok && r.sources[0]?.kind).toBe('telemetry')
  })
  it('reads a top-level markdown page as a document, and still ignores a web host as an extension', () => {
    const md = parseSource({ uri: 'file://notes.md', content: Buffer.from('# Notes\n\nSome text here.'), maxBytes: 1 << 20 })
    expect(md.ok && md.sources[0]?.kind).toBe('doc')
    const web = parseSource({ uri: 'https://example.com', content: Buffer.from('plain words'), maxBytes: 1 << 20 })
    expect(web.ok).toBe(false)
  })
})
