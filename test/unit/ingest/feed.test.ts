import { readFileSync } from 'node:fs'
import { describe, it, expect } from 'vitest'
import { CHUNK_DEFAULTS, chunkSource } from '../../../ingest/chunk.js'
import { looksLikeFeed, parseFeed } from '../../../ingest/parse/feed.js'
import type { ParseResult, ParsedSource } from '../../../ingest/types.js'

function sources(r: ParseResult): ParsedSource[] {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}: ${r.detail}`)
  return r.sources
}

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Ops &amp; More</title><link>https://blog.example/</link>
<item>
  <title>Disk full &#8212; again</title>
  <link>https://blog.example/posts/disk-full/</link>
  <guid isPermaLink="false">post-1</guid>
  <pubDate>Wed, 01 Apr 2026 10:00:00 GMT</pubDate>
  <category>postgres</category><category domain="x">storage</category>
  <dc:creator>Ana</dc:creator>
  <description>Short summary.</description>
  <content:encoded><![CDATA[<p>Intro.</p><h2 id="the-problem">The Problem</h2><p>WAL &amp; slots.</p>]]></content:encoded>
</item>
<item>
  <title>2026</title>
  <guid>urn:uuid:1234</guid>
  <description>&lt;p&gt;Only a &lt;em&gt;description&lt;/em&gt;.&lt;/p&gt;</description>
</item>
<item><title>No identity</title><description>dropped</description></item>
<item><title>Relative</title><link>/posts/rel</link><description>r</description></item>
<item><title>Duplicate</title><link>https://blog.example/posts/disk-full/</link><description>dup</description></item>
<item><title>Bodiless</title><link>https://blog.example/posts/empty</link></item>
</channel></rss>`

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<!-- generated -->
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Ops</title><link href="https://atom.example/"/><id>urn:feed</id>
  <entry>
    <title type="text">Failover drill</title>
    <link rel="self" href="https://atom.example/api/1"/>
    <link rel="alternate" type="text/html" href="https://atom.example/drill"/>
    <id>tag:atom.example,2026:1</id>
    <published>2026-02-03T04:05:06+01:00</published>
    <author><name>Bo</name></author>
    <category term="patroni"/>
    <summary>Ignored because content exists.</summary>
    <content type="html">&lt;h2&gt;Steps&lt;/h2&gt;&lt;p&gt;Promote the replica.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Plain</title>
    <id>tag:atom.example,2026:2</id>
    <updated>2026-02-04T00:00:00Z</updated>
    <summary>Use &lt;b&gt; carefully.

Second paragraph.</summary>
  </entry>
</feed>`

describe('parseFeed: RSS 2.0', () => {
  const items = sources(parseFeed({ uri: 'file://feeds/ops.rss', content: RSS }))

  it('yields one doc per identifiable item, skipping items without link or guid and repeated links', () => {
    expect(items.map((s) => s.uri)).toEqual([
      'https://blog.example/posts/disk-full/',
      'urn:uuid:1234',
      'https://blog.example/posts/rel',
      'https://blog.example/posts/empty',
    ])
    expect(items.every((s) => s.kind === 'doc' && s.service === null && s.team === null)).toBe(true)
  })

  it('prefers content:encoded, keeps HTML headings as sections, and fills metadata', () => {
    expect(items[0]).toEqual({
      uri: 'https://blog.example/posts/disk-full/',
      kind: 'doc',
      title: 'Disk full — again',
      service: null,
      team: null,
      tags: [],
      metadata: {
        feed_uri: 'file://feeds/ops.rss',
        published: '2026-04-01T10:00:00.000Z',
        categories: ['postgres', 'storage'],
        guid: 'post-1',
        author: 'Ana',
      },
      sections: [
        { headingPath: ['Disk full — again'], text: 'Intro.' },
        { headingPath: ['Disk full — again', 'The Problem'], text: 'WAL & slots.' },
      ],
    })
  })

  it('falls back to the guid for the uri and to the (escaped HTML) description for the body', () => {
    expect(items[1]).toMatchObject({
      title: '2026', // stays a string: tag values are not type-coerced
      metadata: { guid: 'urn:uuid:1234', published: null, categories: [] },
      sections: [{ headingPath: ['2026'], text: 'Only a _description_.' }],
    })
    expect(items[1]!.metadata).not.toHaveProperty('author')
  })

  it('gives a body-less item a single section holding its title', () => {
    expect(items[3]!.sections).toEqual([{ headingPath: ['Bodiless'], text: 'Bodiless' }])
  })
})

describe('parseFeed: Atom', () => {
  const entries = sources(parseFeed({ uri: 'https://atom.example/feed.atom', content: ATOM }))

  it('uses the alternate link, content over summary, author name and category terms', () => {
    expect(entries).toHaveLength(2)
    expect(entries[0]).toMatchObject({
      uri: 'https://atom.example/drill',
      title: 'Failover drill',
      metadata: {
        feed_uri: 'https://atom.example/feed.atom',
        published: '2026-02-03T03:05:06.000Z',
        categories: ['patroni'],
        guid: 'tag:atom.example,2026:1',
        author: 'Bo',
      },
      sections: [{ headingPath: ['Failover drill', 'Steps'], text: 'Promote the replica.' }],
    })
  })

  it('falls back to the id and treats an untyped summary as plain text, not HTML', () => {
    expect(entries[1]).toMatchObject({
      uri: 'tag:atom.example,2026:2',
      metadata: { published: '2026-02-04T00:00:00.000Z' },
      sections: [{ headingPath: ['Plain'], text: 'Use <b> carefully.\n\nSecond paragraph.' }],
    })
  })
})

describe('parseFeed: quarantine', () => {
  it('rejects malformed XML and XML that is not a feed as unparseable', () => {
    const bad = parseFeed({ uri: 'f.xml', content: '<rss><channel><item></channel></rss>' })
    expect(bad).toMatchObject({ ok: false, reason: 'unparseable' })
    expect(!bad.ok && bad.detail).toMatch(/^invalid XML at line 1: /)
    expect(parseFeed({ uri: 'f.xml', content: '<?xml version="1.0"?><config><a>1</a></config>' })).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'XML document is not an RSS or Atom feed',
    })
  })

  it('rejects a feed whose items all lack identity as unparseable, and a feed without items as empty', () => {
    expect(parseFeed({ uri: 'f.xml', content: '<rss><channel><item><title>a</title></item><item><title>b</title></item></channel></rss>' })).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: "none of the feed's 2 items has a link or id",
    })
    expect(parseFeed({ uri: 'f.xml', content: '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>' })).toEqual({
      ok: false,
      reason: 'empty',
      detail: 'feed has no items',
    })
  })
})

describe('looksLikeFeed', () => {
  it('recognizes rss, atom and rdf roots after a declaration, comments or a BOM', () => {
    expect(looksLikeFeed(RSS)).toBe(true)
    expect(looksLikeFeed(ATOM)).toBe(true)
    expect(looksLikeFeed('\uFEFF<rdf:RDF xmlns:rdf="x"><channel/></rdf:RDF>')).toBe(true)
    expect(looksLikeFeed('<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<rss version="2.0">')).toBe(true)
  })

  it('rejects other documents, including ones mentioning <rss> later on', () => {
    expect(looksLikeFeed('<!doctype html><html><body><rss></rss></body></html>')).toBe(false)
    expect(looksLikeFeed('# Markdown about <rss>')).toBe(false)
    expect(looksLikeFeed('{"rss": true}')).toBe(false)
    expect(looksLikeFeed('<feedback>no</feedback>')).toBe(false)
  })
})

describe('parseFeed: the real rajivonai Cloud & Platform feed', () => {
  const content = readFileSync(new URL('../../../../shared/corpus/external/rajivonai-cloud-platform.rss.xml', import.meta.url), 'utf8')
  const uri = 'file://external/rajivonai-cloud-platform.rss.xml'
  const items = sources(parseFeed({ uri, content }))
  const texts = items.flatMap((s) => s.sections.map((x) => x.text))

  it('yields 86 docs with unique https URIs, titles, dates and categories', () => {
    expect(looksLikeFeed(content)).toBe(true)
    expect(items).toHaveLength(86)
    expect(new Set(items.map((s) => s.uri)).size).toBe(86)
    for (const s of items) {
      expect(s.uri).toMatch(/^https:\/\/rajivonai\.com\/blog\/.+\/$/)
      expect(s.kind).toBe('doc')
      expect(s.title.length).toBeGreaterThan(0)
      expect(s.metadata.feed_uri).toBe(uri)
      expect(s.metadata.published).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/)
      expect((s.metadata.categories as string[]).length).toBeGreaterThan(0)
    }
    expect(items[0]).toMatchObject({
      uri: 'https://rajivonai.com/blog/2026-04-01-cloud-database-reserved-instance-math/',
      title: 'The Math Behind Database Reserved Instances: When to Wait',
      metadata: { published: '2026-04-01T00:00:00.000Z', categories: ['cloud', 'architecture'] },
    })
  })

  it('keeps the article headings as section paths', () => {
    const first = items[0]!
    expect(first.sections.map((s) => s.headingPath.slice(1).join(' > '))).toContain('The Problem')
    const withProblem = items.filter((s) => s.sections.some((x) => x.headingPath.includes('The Problem')))
    expect(withProblem.length).toBeGreaterThan(10)
    expect(items.every((s) => s.sections.length > 1 && s.sections.every((x) => x.headingPath[0] === s.title))).toBe(true)
  })

  it('decodes HTML entities and leaves no raw HTML tags in the text', () => {
    const joined = texts.join('\n')
    expect(joined).toContain('The biggest mistake in Cloud FinOps isn’t failing to buy Reserved Instances')
    expect(joined).not.toMatch(/&(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-f]+);/i)
    expect(joined).not.toMatch(/<\/?(?:p|span|div|h[1-6]|strong|em|code|pre|table|thead|tbody|tr|td|th|ul|ol|li|a|br|img|blockquote)\b[^>]*>/i)
    expect(items.flatMap((s) => s.sections.flatMap((x) => x.headingPath)).join('\n')).not.toMatch(/[<>]|&\w+;/)
  })

  it('chunks within bounds, every chunk under its item title', async () => {
    const chunks = await Promise.all(items.map((s) => chunkSource(s)))
    const all = chunks.flat()
    expect(all.length).toBeGreaterThan(86 * 5)
    expect(Math.max(...all.map((c) => c.text.length))).toBeLessThanOrEqual(CHUNK_DEFAULTS.maxChars)
    items.forEach((s, i) => {
      expect(chunks[i]!.map((c) => c.ord)).toEqual(chunks[i]!.map((_, j) => j))
      expect(chunks[i]!.every((c) => c.headingPath[0] === s.title && c.indexText.startsWith(`${s.title}\n`))).toBe(true)
    })
  })
})
