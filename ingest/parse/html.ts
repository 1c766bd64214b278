// HTML → Markdown → sections. Converting to Markdown first lets HTML pages and feed items share the
// markdown splitter, so heading paths behave identically whatever the source format.
import TurndownService from 'turndown'
import type { ParseResult, Section } from '../types.js'
import { fileStem } from './issues.js'
import { firstH1, splitSections } from './markdown.js'

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  bulletListMarker: '-',
  emDelimiter: '_',
  strongDelimiter: '**',
  hr: '---',
})

// Page chrome and non-content elements. A full document is parsed in body context, so <head>'s children
// (<title>, <style>, <script>) would otherwise leak into the text.
turndown.remove(['script', 'style', 'nav', 'footer', 'noscript', 'template', 'iframe', 'head', 'title', 'svg'] as never)

// Turndown backslash-escapes every markdown character (`cost\_center`, `1\.`), which only adds noise to
// embeddings and full-text search. We escape just what would change *our* structure: text lines that
// would look like an ATX heading or a code fence to splitSections.
turndown.escape = (text: string) => text.replace(/^(\s*)(#{1,6}\s|`{3,}|~{3,})/gm, '$1\\$2')

// Images: the alt text carries meaning, the URL does not.
turndown.addRule('image', { filter: 'img', replacement: (_c, node) => (node as { alt?: string }).alt ?? '' })

// Core turndown has no table support and would put every cell in its own paragraph. Render pipe tables
// instead, so a row stays one line ("| p95 | 120 ms |") and keeps its cells together in a chunk.
const cell = (content: string) => content.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()
turndown.addRule('tableCell', { filter: ['th', 'td'], replacement: (content) => ` ${cell(content)} |` })
turndown.addRule('tableRow', {
  filter: 'tr',
  replacement: (content, node) => {
    const row = `\n|${content}`
    // Header separator after a row of <th> cells, so the result is valid GFM.
    const cells = (node as unknown as { childNodes: ArrayLike<{ nodeName: string }> }).childNodes
    const ths = Array.from(cells).filter((c) => c.nodeName === 'TH').length
    return ths > 0 ? `${row}\n|${' --- |'.repeat(ths)}` : row
  },
})
turndown.addRule('tableSection', { filter: ['thead', 'tbody', 'tfoot'], replacement: (content) => content })
turndown.addRule('table', { filter: 'table', replacement: (content) => `\n\n${content.trim()}\n\n` })

export function htmlToMarkdown(html: string): string {
  // Whitespace text between removed <head>/<nav> elements would otherwise leave a stray " " first line.
  return turndown.turndown(html).trim()
}

export function htmlToSections(html: string, title: string): Section[] {
  return splitSections(htmlToMarkdown(html), title)
}

/** Visible text of an HTML fragment (tags dropped, entities decoded), on one line. */
function fragmentText(fragment: string): string {
  return turndown.turndown(`<p>${fragment.replace(/<[^>]*>/g, ' ')}</p>`).replace(/\s+/g, ' ').trim()
}

/** A single web page: kind 'doc', title from <title>, else the first h1, else the file name. */
export function parseHtmlPage(input: { uri: string; content: string }): ParseResult {
  const markdown = htmlToMarkdown(input.content)
  const titleTag = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(input.content)?.[1]
  const title = (titleTag && fragmentText(titleTag)) || firstH1(markdown) || fileStem(input.uri)
  const sections = splitSections(markdown, title)
  if (sections.length === 0) return { ok: false, reason: 'empty', detail: 'HTML page has no text content' }
  return {
    ok: true,
    sources: [{ uri: input.uri, kind: 'doc', title, service: null, team: null, tags: [], metadata: {}, sections }],
  }
}
