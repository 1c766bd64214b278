import { describe, it, expect } from 'vitest'
import { CHUNK_DEFAULTS, chunkSource, LEDE_CONTEXT_CHARS, ledeOf } from '../../../ingest/chunk.js'
import { sha256 } from '../../../ingest/hash.js'
import { parseMarkdownSource } from '../../../ingest/parse/markdown.js'
import type { ParsedSource, Section } from '../../../ingest/types.js'

const T = 'Orders DB disk full'
const src = (sections: Section[]): ParsedSource => ({
  uri: 'file://runbooks/orders-db.md',
  kind: 'runbook',
  title: T,
  service: 'orders-db',
  team: 'data-eng',
  tags: [],
  metadata: {},
  sections,
})
const sec = (path: string[], text: string): Section => ({ headingPath: [T, ...path], text })

/** Deterministic prose: numbered sentences grouped into paragraphs, so every word is traceable. */
function prose(sentences: number, perParagraph = 4): string {
  const out: string[] = []
  for (let i = 0; i < sentences; i++) {
    out.push(`Sentence ${i} explains step ${i} of the recovery in some detail`)
  }
  const paragraphs: string[] = []
  for (let i = 0; i < out.length; i += perParagraph) paragraphs.push(out.slice(i, i + perParagraph).join('. ') + '.')
  return paragraphs.join('\n\n')
}

describe('chunkSource: single sections', () => {
  it('turns a mid-sized section into one chunk with indexText and contentHash as specified', async () => {
    const text = 'x'.repeat(300)
    const chunks = await chunkSource(src([sec(['Mitigation', 'Free space'], text)]))
    expect(chunks).toEqual([
      {
        ord: 0,
        headingPath: [T, 'Mitigation', 'Free space'],
        text,
        indexText: `${T}\nMitigation > Free space\n${text}`,
        lexicalText: `${T}\nMitigation > Free space\n${text}`,
        contentHash: sha256(`${T}\u241fMitigation\u241fFree space\n${text}`),
      },
    ])
  })

  it('gives the preamble an empty heading line in indexText', async () => {
    const [chunk] = await chunkSource(src([sec([], 'Intro.')]))
    expect(chunk!.indexText).toBe(`${T}\n\nIntro.`)
  })

  it('splits a long section into ordered pieces within maxChars, with overlap, losing no words', async () => {
    const text = prose(120)
    expect(text.length).toBeGreaterThan(4 * CHUNK_DEFAULTS.maxChars)
    const chunks = await chunkSource(src([sec(['Triage'], text)]))
    expect(chunks.length).toBeGreaterThanOrEqual(5)
    expect(chunks.map((c) => c.ord)).toEqual(chunks.map((_, i) => i))
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(CHUNK_DEFAULTS.maxChars)
      expect(c.text.length).toBeGreaterThan(0)
      expect(c.headingPath).toEqual([T, 'Triage'])
    }
    // Paragraph boundaries are preferred: pieces start at a paragraph start.
    for (const c of chunks) expect(c.text).toMatch(/^Sentence \d+ /)
    // Every sentence survives.
    const joined = chunks.map((c) => c.text).join('\n')
    for (let i = 0; i < 120; i++) expect(joined).toContain(`Sentence ${i} explains`)
  })

  it('overlaps consecutive pieces by whole paragraphs totalling at most overlapChars', async () => {
    // 60-char paragraphs ("Sentence 14 explains … detail."): the splitter carries the trailing paragraphs
    // whose lengths, separators not counted, fit in overlapChars (150) into the next piece — here exactly two.
    const chunks = await chunkSource(src([sec(['Triage'], prose(90, 1))]))
    expect(chunks.length).toBeGreaterThanOrEqual(4)
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!.text
      const next = chunks[i]!.text
      let k = Math.min(prev.length, next.length)
      while (k > 0 && !prev.endsWith(next.slice(0, k))) k--
      const overlap = next.slice(0, k)
      expect(overlap.split('\n\n')).toHaveLength(2)
      expect(next.slice(k).startsWith('\n\n')).toBe(true) // overlap ends on a paragraph boundary
      expect(overlap.replace(/\n\n/g, '').length).toBeLessThanOrEqual(CHUNK_DEFAULTS.overlapChars)
    }
  })

  it('respects custom bounds, falling back to sentence and word splits', async () => {
    const text = 'word '.repeat(200).trim() + '. ' + 'more words here. '.repeat(20).trim()
    const chunks = await chunkSource(src([sec(['A'], text)]), { maxChars: 120, overlapChars: 20, minChars: 10 })
    expect(chunks.length).toBeGreaterThan(8)
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(120)
  })

  it('rejects inconsistent options', async () => {
    await expect(chunkSource(src([sec([], 'x')]), { maxChars: 100, overlapChars: 100 })).rejects.toThrow(RangeError)
    await expect(chunkSource(src([sec([], 'x')]), { maxChars: 0 })).rejects.toThrow(RangeError)
  })
})

describe('chunkSource: the lede in the full-text index of the other chunks', () => {
  it('adds the preamble to lexicalText of every other chunk, not to indexText (embedded) or text (cited)', async () => {
    const chunks = await chunkSource(src([sec([], 'Disk fills from WAL retained by an idle slot.'), sec(['Mitigation'], 'Drop the slot. '.repeat(30))]))
    expect(chunks).toHaveLength(2)
    const [pre, mit] = chunks
    expect(pre!.lexicalText).toBe(pre!.indexText)
    expect(mit!.lexicalText).toBe(`${T}\nDisk fills from WAL retained by an idle slot.\nMitigation\n${mit!.text}`)
    expect(mit!.indexText).toBe(`${T}\nMitigation\n${mit!.text}`)
    expect(mit!.text).not.toContain('WAL')
  })

  it('cuts a long lede at a word boundary within LEDE_CONTEXT_CHARS, and has none without a preamble', () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ')
    const lede = ledeOf(src([sec([], words), sec(['A'], 'a')]))
    expect(lede.length).toBeLessThanOrEqual(LEDE_CONTEXT_CHARS)
    expect(lede.length).toBeGreaterThan(LEDE_CONTEXT_CHARS - 10)
    expect(words.startsWith(`${lede} `)).toBe(true)
    expect(ledeOf(src([sec(['A'], 'a'), sec(['B'], 'b')]))).toBe('')
    // A body-less feed item's only section is its title.
    expect(ledeOf(src([sec([], T)]))).toBe('')
  })
})

describe('chunkSource: merging small sections', () => {
  it('merges small following siblings and children under the common prefix, with inline sub-headings', async () => {
    const chunks = await chunkSource(
      src([
        sec(['Mitigation', 'Rollback'], 'Roll back the release.'),
        sec(['Mitigation', 'Verify'], 'Check the error rate.'),
        sec(['Mitigation', 'Verify', 'Dashboards'], 'Open the cart dashboard.'),
      ]),
    )
    expect(chunks).toHaveLength(1)
    expect(chunks[0]!.headingPath).toEqual([T, 'Mitigation'])
    expect(chunks[0]!.text).toBe(
      'Rollback\nRoll back the release.\n\nVerify\nCheck the error rate.\n\nVerify > Dashboards\nOpen the cart dashboard.',
    )
    expect(chunks[0]!.indexText).toBe(`${T}\nMitigation\n${chunks[0]!.text}`)
  })

  it('merges a small top-level section with its children, keeping its own path', async () => {
    const chunks = await chunkSource(src([sec(['Triage'], 'Start here.'), sec(['Triage', 'Logs'], 'Read the logs.')]))
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([[[T, 'Triage'], 'Start here.\n\nLogs\nRead the logs.']])
  })

  it('never merges across top-level sections, into the preamble, or with an uncle section', async () => {
    const chunks = await chunkSource(
      src([
        sec([], 'Intro.'),
        sec(['Symptoms'], 'Slow.'),
        sec(['Triage', 'A', 'A1'], 'Deep.'),
        sec(['Triage', 'B'], 'Uncle of A1.'),
        sec(['Mitigation'], 'Fix.'),
      ]),
    )
    expect(chunks.map((c) => c.headingPath.slice(1).join(' > '))).toEqual(['', 'Symptoms', 'Triage > A > A1', 'Triage > B', 'Mitigation'])
    expect(chunks.map((c) => c.text)).toEqual(['Intro.', 'Slow.', 'Deep.', 'Uncle of A1.', 'Fix.'])
  })

  it('stops merging once the group reaches minChars or the merge would exceed maxChars', async () => {
    const big = 'b'.repeat(990)
    // The bounds this case was written for (the defaults until chunker heading-aware-1:1500/150/300).
    const chunks = await chunkSource(
      src([
        sec(['M', 'a'], 'small a'),
        sec(['M', 'b'], big), // would push the group past 1000
        sec(['M', 'c'], 'c'.repeat(250)), // b is not small, so c stays alone
        sec(['M', 'd'], 'small d'),
      ]),
      { maxChars: 1000, overlapChars: 120, minChars: 200 },
    )
    expect(chunks.map((c) => [c.headingPath.slice(1).join(' > '), c.text.length])).toEqual([
      ['M > a', 7],
      ['M > b', 990],
      ['M > c', 250],
      ['M > d', 7],
    ])
  })
})

describe('chunkSource: end to end and determinism', () => {
  const RUNBOOK = [
    '---',
    'title: Orders DB disk full',
    'service: orders-db',
    'team: data-eng',
    '---',
    '# Orders DB disk full',
    '',
    prose(6),
    '',
    '## Symptoms',
    '',
    prose(12),
    '',
    '## Mitigation',
    '',
    '### Drop the slot',
    '',
    '```sql',
    '# not a heading',
    "SELECT pg_drop_replication_slot('cdc');",
    '```',
    '',
    '### Restart',
    '',
    prose(30),
  ].join('\n')

  it('keeps heading paths from the markdown on every chunk', async () => {
    const r = parseMarkdownSource({ uri: 'file://runbooks/orders-db.md', content: RUNBOOK })
    if (!r.ok) throw new Error(r.detail)
    const chunks = await chunkSource(r.sources[0]!)
    const paths = [...new Set(chunks.map((c) => c.headingPath.join(' / ')))]
    expect(paths).toEqual([T, `${T} / Symptoms`, `${T} / Mitigation / Drop the slot`, `${T} / Mitigation / Restart`])
    expect(chunks.find((c) => c.text.includes('pg_drop_replication_slot'))!.text).toContain('# not a heading')
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(CHUNK_DEFAULTS.maxChars)
  })

  it('is deterministic, and hashes change with the heading path as well as the text', async () => {
    const r = parseMarkdownSource({ uri: 'file://runbooks/orders-db.md', content: RUNBOOK })
    if (!r.ok) throw new Error(r.detail)
    const a = await chunkSource(r.sources[0]!)
    const b = await chunkSource(structuredClone(r.sources[0]!))
    expect(b).toEqual(a)
    expect(new Set(a.map((c) => c.contentHash)).size).toBe(a.length)
    const [x] = await chunkSource(src([sec(['A'], 'same text')]))
    const [y] = await chunkSource(src([sec(['B'], 'same text')]))
    expect(x!.contentHash).not.toBe(y!.contentHash)
    expect(x!.contentHash).toMatch(/^[0-9a-f]{64}$/)
  })
})
