// The single entry point the pipeline calls for every fetched file or page. Byte-level checks happen here,
// once, before any format parser sees the content; the format is chosen by extension, then by sniffing.
import type { ParseResult } from '../types.js'
import { looksLikeFeed, parseFeed } from './feed.js'
import { parseHtmlPage } from './html.js'
import { parseMarkdownSource } from './markdown.js'
import { parseTelemetry } from './telemetry.js'

export { parseMarkdownSource, splitSections, RunbookFrontMatter, CaseStudyFrontMatter } from './markdown.js'
export { htmlToSections, parseHtmlPage } from './html.js'
export { parseFeed, looksLikeFeed } from './feed.js'
export { parseTelemetry, TelemetrySummarySchema } from './telemetry.js'

/** Git and most tools call a file binary if a NUL shows up in the first 8 KiB; we use the same rule. */
const SNIFF_BYTES = 8 * 1024

const KNOWN = new Set(['.md', '.markdown', '.json', '.xml', '.rss', '.atom', '.html', '.htm'])

/** Lower-cased extension of the uri's last path segment ('' if none); host, query and fragment are ignored. */
function extensionOf(uri: string): string {
  let path = uri.replace(/[?#].*$/, '')
  try {
    // Web URLs: so https://example.com is not read as a ".com" file. Our file:// URIs are relative to the
    // synced root (file://runbooks/x.md, file://x.json), so their "host" is a path segment: keep the whole string.
    if (/^https?:/i.test(uri)) path = new URL(uri).pathname
  } catch {
    // Not a URL (a bare relative path): use it as is.
  }
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot).toLowerCase() : ''
}

const looksLikeHtml = (text: string) => /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype html|html)[\s>]/i.test(text.slice(0, 2048))

/**
 * Fetched pages often have no telling extension (https://host/feed); the server's Content-Type then picks
 * the parser. Only consulted when the extension is not one we know; parameters like `; charset=` are ignored.
 */
function extensionFromContentType(contentType: string | undefined): string {
  const mime = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (mime === 'text/markdown' || mime === 'text/x-markdown') return '.md'
  if (mime === 'application/json') return '.json'
  if (/^(application|text)\/((rss|atom)\+)?xml$/.test(mime)) return '.xml'
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return '.html'
  return ''
}

function dispatch(uri: string, content: Buffer, maxBytes: number, contentType?: string): ParseResult {
  if (content.length > maxBytes) {
    return { ok: false, reason: 'oversized', detail: `${content.length} bytes exceeds the limit of ${maxBytes} bytes` }
  }
  if (content.length === 0) return { ok: false, reason: 'empty', detail: 'file is empty (0 bytes)' }
  if (content.subarray(0, SNIFF_BYTES).includes(0)) {
    return { ok: false, reason: 'binary', detail: 'NUL byte in the first 8 KiB: binary content' }
  }
  let text: string
  try {
    // fatal: a replacement character silently stored in the index is worse than a quarantined file.
    text = new TextDecoder('utf-8', { fatal: true }).decode(content)
  } catch {
    return { ok: false, reason: 'binary', detail: 'content is not valid UTF-8' }
  }
  if (text.trim() === '') return { ok: false, reason: 'empty', detail: 'file contains only whitespace' }

  const fromUri = extensionOf(uri)
  const ext = KNOWN.has(fromUri) ? fromUri : extensionFromContentType(contentType) || fromUri
  switch (ext) {
    case '.md':
    case '.markdown':
      return parseMarkdownSource({ uri, content: text })
    case '.json':
      return parseJson(uri, text)
    case '.xml':
    case '.rss':
    case '.atom':
      return parseFeed({ uri, content: text })
    case '.html':
    case '.htm':
      return parseHtmlPage({ uri, content: text })
  }
  if (looksLikeFeed(text)) return parseFeed({ uri, content: text })
  // Web pages often have no extension at all (https://host/docs/runbook); a `.txt` that happens to hold
  // HTML is still not treated as a page.
  if (ext === '' && looksLikeHtml(text)) return parseHtmlPage({ uri, content: text })
  return { ok: false, reason: 'unsupported_type', detail: `unsupported file type "${ext || '(no extension)'}"` }
}

/** .json is only ingested when it is a telemetry summary; other JSON (configs, fixtures) is not knowledge. */
function parseJson(uri: string, text: string): ParseResult {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: 'unparseable', detail: `invalid JSON: ${(err as Error).message}` }
  }
  const isTelemetry = typeof doc === 'object' && doc !== null && ('data_quality' in doc || 'signals' in doc)
  if (!isTelemetry) return { ok: false, reason: 'unsupported_type', detail: 'JSON document is not a telemetry summary' }
  return parseTelemetry({ uri, content: text })
}

/**
 * Parse one fetched file or page. Never throws: any unexpected exception becomes an `unparseable`
 * quarantine, so one hostile or broken file can't abort an ingest run.
 */
export function parseSource(input: { uri: string; content: Buffer; maxBytes: number; contentType?: string }): ParseResult {
  try {
    return dispatch(input.uri, input.content, input.maxBytes, input.contentType)
  } catch (err) {
    return { ok: false, reason: 'unparseable', detail: `parser error: ${err instanceof Error ? err.message : String(err)}` }
  }
}
