// RSS 2.0 / RSS 1.0 (RDF) / Atom feeds: one ParsedSource per item, sections from the item's HTML body.
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { ParseResult, ParsedSource } from '../types.js'
import { htmlToSections } from './html.js'

const REPEATED = new Set(['item', 'entry', 'link', 'category'])

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  // Keep every value a string: a title like "2026" must not become a number.
  parseTagValue: false,
  parseAttributeValue: false,
  // Numeric (&#8217;) and common named (&nbsp;) references show up in real feeds; XML-only decoding would
  // leave them raw. Entity-expansion limits stay at the library's safe defaults.
  htmlEntities: true,
  isArray: (name) => REPEATED.has(name),
})

type Node = Record<string, unknown>
const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Text of an element that may have been parsed as a string, as { '#text', '@_attr' }, or as an array. */
function text(v: unknown): string | undefined {
  const first = Array.isArray(v) ? v[0] : v
  const raw = isNode(first) ? first['#text'] : first
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined
}

const ROOT = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\?[^>]*\?>)\s*)*<(?:rss|feed|rdf:RDF)[\s>]/

/** Cheap sniff for content arriving without a telling extension: is the root element rss, feed or rdf:RDF? */
export function looksLikeFeed(content: string): boolean {
  return ROOT.test(content.replace(/^\uFEFF/, '').slice(0, 4096))
}

function isoDate(v: string | undefined): string | null {
  const t = v ? Date.parse(v) : NaN
  return Number.isNaN(t) ? null : new Date(t).toISOString()
}

/** Atom: prefer rel="alternate" (or a link with no rel, which means alternate), else the first href. */
function atomLink(entry: Node): string | undefined {
  const links = asArray(entry.link).filter(isNode)
  const alt = links.find((l) => l['@_rel'] === undefined || l['@_rel'] === 'alternate') ?? links[0]
  return typeof alt?.['@_href'] === 'string' ? alt['@_href'].trim() || undefined : undefined
}

// Relative item links are resolved against the feed's own web address (never against a file:// uri).
function absolute(link: string, base: string | undefined): string {
  if (!base || !/^https?:/i.test(base)) return link
  try {
    return new URL(link, base).href
  } catch {
    return link
  }
}

export function parseFeed(input: { uri: string; content: string }): ParseResult {
  const valid = XMLValidator.validate(input.content)
  if (valid !== true) {
    return { ok: false, reason: 'unparseable', detail: `invalid XML at line ${valid.err.line}: ${valid.err.msg}` }
  }
  const doc = parser.parse(input.content) as Node
  const rss = isNode(doc.rss) ? doc.rss : undefined
  const rdf = isNode(doc['rdf:RDF']) ? doc['rdf:RDF'] : undefined
  const atom = isNode(doc.feed) ? doc.feed : undefined
  const channel = rss && isNode(rss.channel) ? rss.channel : rdf && isNode(rdf.channel) ? rdf.channel : undefined
  if (!channel && !atom) return { ok: false, reason: 'unparseable', detail: 'XML document is not an RSS or Atom feed' }

  const base = atom ? atomLink(atom) : text(channel?.link)
  const entries = (atom ? asArray(atom.entry) : asArray(channel?.item ?? rdf?.item)).filter(isNode)
  if (entries.length === 0) return { ok: false, reason: 'empty', detail: 'feed has no items' }

  const sources: ParsedSource[] = []
  const seen = new Set<string>()
  for (const e of entries) {
    const id = atom ? text(e.id) : text(e.guid) ?? text(e['@_rdf:about'])
    const link = atom ? atomLink(e) : text(e.link)
    const uri = link ? absolute(link, base) : id
    // Items without identity can't be updated or deleted later, so they are skipped (as are repeats).
    if (!uri || seen.has(uri)) continue
    seen.add(uri)
    const title = text(e.title) ?? uri
    const body = atom ? atomHtml(e.content) ?? atomHtml(e.summary) : text(e['content:encoded']) ?? text(e.description)
    const sections = body ? htmlToSections(body, title) : []
    // A body-less item is still a real link worth finding by its title.
    if (sections.length === 0) sections.push({ headingPath: [title], text: title })
    const author = atom ? text(isNode(asArray(e.author)[0]) ? (asArray(e.author)[0] as Node).name : undefined) : text(e.author) ?? text(e['dc:creator'])
    const categories = asArray(e.category)
      .map((c) => (isNode(c) && typeof c['@_term'] === 'string' ? c['@_term'] : text(c)))
      .filter((c): c is string => !!c)
    const metadata: Record<string, unknown> = {
      feed_uri: input.uri,
      published: isoDate(text(atom ? e.published ?? e.updated : e.pubDate ?? e['dc:date'])),
      categories,
      guid: id ?? null,
    }
    if (author) metadata.author = author
    sources.push({ uri, kind: 'doc', title, service: null, team: null, tags: [], metadata, sections })
  }
  if (sources.length === 0) {
    return { ok: false, reason: 'unparseable', detail: `none of the feed's ${entries.length} items has a link or id` }
  }
  return { ok: true, sources }
}

/**
 * Atom text constructs: type="html" is escaped HTML (already unescaped by the parser); "text" — also the
 * default — is plain text, so it is wrapped as HTML paragraphs to survive the conversion. type="xhtml"
 * arrives as parsed elements, not a string; we don't rebuild it, and the caller falls back to the summary.
 */
function atomHtml(el: unknown): string | undefined {
  const value = text(el)
  const type = isNode(el) ? el['@_type'] : undefined
  if (value === undefined || type === 'html') return value
  const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return escaped.split(/\n\s*\n/).map((p) => `<p>${p}</p>`).join('')
}
