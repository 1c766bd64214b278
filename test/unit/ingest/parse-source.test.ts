import { describe, it, expect } from 'vitest'
import { parseSource } from '../../../ingest/parse/index.js'
import type { ParseResult } from '../../../ingest/types.js'

const RUNBOOK = '---\nservice: orders-db\nteam: data-eng\n---\n# Disk full\n\nBody.\n'
const TELEMETRY = JSON.stringify({
  service: 'cart-api',
  window: { start: '2026-11-20T09:00:00Z', end: '2026-11-20T10:00:00Z' },
  signals: { error_rate: 0.01 },
  data_quality: { status: 'ok', freshness_lag_s: 10, completeness_pct: 100, reasons: [] },
  recent_changes: [],
})
const FEED = '<rss version="2.0"><channel><title>t</title><item><title>A</title><link>https://x.example/a</link><description>Hello.</description></item></channel></rss>'
const PAGE = '<!DOCTYPE html><html><head><title>Page</title></head><body><p>Hello page.</p></body></html>'

const parse = (uri: string, content: string | Buffer, opts: { maxBytes?: number; contentType?: string } = {}) =>
  parseSource({ uri, content: typeof content === 'string' ? Buffer.from(content) : content, maxBytes: opts.maxBytes ?? 1_000_000, contentType: opts.contentType })
const kindOf = (r: ParseResult) => (r.ok ? r.sources.map((s) => s.kind).join(',') : `!${r.reason}`)

describe('parseSource: byte-level checks', () => {
  it('quarantines content over maxBytes as oversized before looking at it', () => {
    expect(parse('a.md', RUNBOOK, { maxBytes: 10 })).toEqual({
      ok: false,
      reason: 'oversized',
      detail: `${Buffer.byteLength(RUNBOOK)} bytes exceeds the limit of 10 bytes`,
    })
    expect(kindOf(parse('a.md', RUNBOOK, { maxBytes: Buffer.byteLength(RUNBOOK) }))).toBe('runbook')
  })

  it('quarantines zero-length and whitespace-only content as empty', () => {
    expect(parse('a.md', '')).toEqual({ ok: false, reason: 'empty', detail: 'file is empty (0 bytes)' })
    expect(parse('a.md', ' \n\t\r\n')).toEqual({ ok: false, reason: 'empty', detail: 'file contains only whitespace' })
    expect(parse('a.md', '\uFEFF\n')).toMatchObject({ ok: false, reason: 'empty' })
  })

  it('quarantines a NUL byte in the first 8 KiB as binary, but not one further in', () => {
    expect(parse('a.md', Buffer.from([0x23, 0x20, 0x41, 0x00, 0x42]))).toEqual({
      ok: false,
      reason: 'binary',
      detail: 'NUL byte in the first 8 KiB: binary content',
    })
    const late = Buffer.concat([Buffer.from(`# T\n\n${'x'.repeat(8192)}`), Buffer.from([0])])
    expect(kindOf(parse('a.md', late))).toBe('doc')
  })

  it('quarantines invalid UTF-8 as binary', () => {
    const latin1 = Buffer.from('# Caf\xe9\n\nBody', 'latin1')
    expect(parse('a.md', latin1)).toEqual({ ok: false, reason: 'binary', detail: 'content is not valid UTF-8' })
  })

  it('strips a UTF-8 BOM so front-matter is still recognized', () => {
    const r = parse('a.md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(RUNBOOK)]))
    expect(r.ok && r.sources[0]).toMatchObject({ kind: 'runbook', service: 'orders-db', title: 'Disk full' })
  })
})

describe('parseSource: routing', () => {
  it('routes by extension, case-insensitively, ignoring query and fragment', () => {
    expect(kindOf(parse('file://runbooks/disk.md', RUNBOOK))).toBe('runbook')
    expect(kindOf(parse('file://docs/Guide.MARKDOWN', '# G\n\ntext'))).toBe('doc')
    expect(kindOf(parse('file://telemetry/cart.json', TELEMETRY))).toBe('telemetry')
    expect(kindOf(parse('https://x.example/feed.xml?page=2', FEED))).toBe('doc')
    expect(kindOf(parse('feed.rss', FEED))).toBe('doc')
    expect(kindOf(parse('feed.atom#top', FEED))).toBe('doc')
    expect(kindOf(parse('page.HTM', PAGE))).toBe('doc')
    expect(parse('page.html', PAGE)).toMatchObject({ ok: true, sources: [{ uri: 'page.html', title: 'Page' }] })
  })

  it('rejects unknown extensions as unsupported_type', () => {
    expect(parse('notes.txt', 'plain text')).toEqual({ ok: false, reason: 'unsupported_type', detail: 'unsupported file type ".txt"' })
    expect(parse('file://x/Makefile', 'all:')).toEqual({ ok: false, reason: 'unsupported_type', detail: 'unsupported file type "(no extension)"' })
    expect(parse('https://example.com', 'hello')).toEqual({ ok: false, reason: 'unsupported_type', detail: 'unsupported file type "(no extension)"' })
    expect(kindOf(parse('notes.txt', PAGE))).toBe('!unsupported_type')
  })

  it('ingests JSON only when it is telemetry-shaped', () => {
    expect(parse('config.json', '{"name": "x"}')).toEqual({ ok: false, reason: 'unsupported_type', detail: 'JSON document is not a telemetry summary' })
    expect(parse('list.json', '[1, 2]')).toMatchObject({ ok: false, reason: 'unsupported_type' })
    expect(parse('t.json', '{"signals": ')).toMatchObject({ ok: false, reason: 'unparseable', detail: expect.stringMatching(/^invalid JSON: /) })
    expect(parse('t.json', '{"service": "a", "signals": {}}')).toMatchObject({ ok: false, reason: 'missing_field' })
  })

  it('treats an .xml that is not a feed as unparseable', () => {
    expect(parse('pom.xml', '<project><a/></project>')).toEqual({ ok: false, reason: 'unparseable', detail: 'XML document is not an RSS or Atom feed' })
  })

  it('sniffs feeds and HTML pages on extension-less URIs, and honours a Content-Type', () => {
    expect(kindOf(parse('https://x.example/feed', FEED))).toBe('doc')
    expect(parse('https://x.example/docs/page', PAGE)).toMatchObject({ ok: true, sources: [{ title: 'Page' }] })
    expect(kindOf(parse('https://x.example/api/summary', TELEMETRY, { contentType: 'application/json; charset=utf-8' }))).toBe('telemetry')
    expect(kindOf(parse('https://x.example/doc.php', '# H\n\ntext', { contentType: 'text/markdown' }))).toBe('doc')
    // A known extension wins over the header.
    expect(kindOf(parse('https://x.example/a.md', '# H\n\ntext', { contentType: 'text/html' }))).toBe('doc')
    expect(kindOf(parse('https://x.example/a', 'x', { contentType: 'image/png' }))).toBe('!unsupported_type')
  })

  it('never throws: unexpected exceptions become unparseable', () => {
    const hostile = {
      length: 5,
      subarray() {
        throw new Error('boom')
      },
    } as unknown as Buffer
    expect(parseSource({ uri: 'a.md', content: hostile, maxBytes: 100 })).toEqual({ ok: false, reason: 'unparseable', detail: 'parser error: boom' })
  })
})
