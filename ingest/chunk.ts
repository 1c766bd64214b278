// Heading-aware chunking: sections are the unit of meaning, so chunks follow section boundaries. Long
// sections are split; runs of tiny sections are merged so that a 40-character "## Owner" section does not
// become a near-empty, unretrievable vector of its own.
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters'
import { sha256 } from './hash.js'
import type { Chunk, ParsedSource, Section } from './types.js'

export interface ChunkOptions {
  /** Upper bound on a chunk's `text` length, in UTF-16 code units. */
  maxChars?: number
  /** Overlap between consecutive pieces of one split section, so a sentence cut at a boundary survives. */
  overlapChars?: number
  /** Sections shorter than this are merged with the following sibling/child section when possible. */
  minChars?: number
}

export const CHUNK_DEFAULTS = { maxChars: 1500, overlapChars: 150, minChars: 300 } as const

/**
 * How much of a document's lede (its preamble: the text before the first heading) joins the full-text index
 * of each of its other chunks, cut back to a word boundary. Full text used to see a chunk's document only
 * through its title, so a question paraphrasing what the document as a whole is about found the short lede
 * chunk (no answer in it) and missed the section that answers (contextual chunk headers). Measured with
 * src/knowledge/store.ts writing lexicalText to index_text (evals, passage level, local-hash-v1, 1500-char chunks),
 * R@1/R@5/MRR before → after:
 *   external hybrid 0.656/0.875/0.761 → 0.625/0.906/0.760 (p25, p28 into the top 5; p23 4 → 7)
 *            fts    0.656/0.875/0.745 → 0.656/0.906/0.753, vector 0.406/0.781/0.571 → 0.438/0.781/0.575
 *   demo     hybrid 0.560/0.880/0.677 → 0.580/0.900/0.697 (d04 into the top 5)
 *            fts    0.560/0.860/0.674 → 0.580/0.880/0.691, vector 0.300/0.740/0.474 → 0.280/0.740/0.470
 * 150 chars: external R@5 back to 0.875; 600: demo R@5 0.86. The lede goes to full text only (`lexicalText`),
 * not to the embedding: with it in the local embedding too, external vector MRR fell 0.571 → 0.550 and hybrid
 * MRR to 0.739, below full text alone.
 */
export const LEDE_CONTEXT_CHARS = 300

/** A chunk with the text its full-text index (chunks.index_text → tsv) is built from; see LEDE_CONTEXT_CHARS. */
export interface IndexedChunk extends Chunk {
  /** indexText plus the document's lede (title, lede, heading path, passage); the embedding keeps indexText. */
  lexicalText: string
}

/**
 * Identifies the chunking output for a given input; the pipeline mixes it into source hashes so that a
 * chunking change re-indexes everything. Bump the number when the algorithm changes; the defaults are
 * included so that tuning them does the same without anyone remembering to bump.
 */
export const CHUNKER_VERSION = `heading-aware-2:${CHUNK_DEFAULTS.maxChars}/${CHUNK_DEFAULTS.overlapChars}/${CHUNK_DEFAULTS.minChars}/${LEDE_CONTEXT_CHARS}`

/** Separator used in contentHash between heading path parts (U+241F SYMBOL FOR UNIT SEPARATOR). */
const PATH_SEP = '\u241f'

function commonPrefix(paths: string[][]): string[] {
  const [first, ...rest] = paths
  if (!first) return []
  let n = first.length
  for (const p of rest) {
    let i = 0
    while (i < n && i < p.length && p[i] === first[i]) i++
    n = i
  }
  return first.slice(0, n)
}

/**
 * A merged group is labelled with the COMMON PREFIX of its sections' heading paths: a chunk holding
 * "Verify" and "Rollback" is about their parent, and labelling it with the first one's path would be wrong
 * for half its text. The headings below the prefix are kept inline (a "Verify" line before its text), so
 * no heading words are lost to retrieval.
 */
function renderGroup(group: Section[]): Section {
  const prefix = commonPrefix(group.map((s) => s.headingPath))
  const parts = group.map((s) =>
    s.headingPath.length > prefix.length ? `${s.headingPath.slice(prefix.length).join(' > ')}\n${s.text}` : s.text,
  )
  return { headingPath: prefix, text: parts.join('\n\n') }
}

const startsWith = (path: string[], prefix: string[]) => prefix.every((p, i) => path[i] === p)

/**
 * `next` may join a group started by `first` if it is a later sibling of `first` or a descendant of one
 * (same parent, same depth or deeper) and sits in the same top-level section: chunks never straddle two
 * top-level sections. The preamble (path [title]) therefore never merges.
 */
function canJoin(first: Section, next: Section): boolean {
  const fp = first.headingPath
  const np = next.headingPath
  return fp.length > 1 && np[1] === fp[1] && np.length >= fp.length && startsWith(np, fp.slice(0, -1))
}

function groupSections(sections: Section[], minChars: number, maxChars: number): Section[] {
  const out: Section[] = []
  let group: Section[] = []
  for (const section of sections) {
    const first = group[0]
    if (first) {
      const current = renderGroup(group)
      const small = current.text.length < minChars
      if (small && canJoin(first, section) && renderGroup([...group, section]).text.length <= maxChars) {
        group.push(section)
        continue
      }
      out.push(current)
    }
    group = [section]
  }
  if (group.length > 0) out.push(renderGroup(group))
  return out
}

/** The document's lede for the other chunks' full-text index: its preamble, cut to `max` chars at a word boundary. */
export function ledeOf(src: ParsedSource, max = LEDE_CONTEXT_CHARS): string {
  const first = src.sections[0]
  if (!first || first.headingPath.length > 1 || max <= 0) return ''
  const text = first.text.replace(/\s+/g, ' ').trim()
  // A body-less feed item's only section is its title: no lede.
  if (text === src.title.trim()) return ''
  return text.length <= max ? text : text.slice(0, max + 1).replace(/\s+\S*$/, '')
}

export async function chunkSource(src: ParsedSource, opts: ChunkOptions = {}): Promise<IndexedChunk[]> {
  const { maxChars, overlapChars, minChars } = { ...CHUNK_DEFAULTS, ...opts }
  if (!(maxChars > 0) || !(overlapChars >= 0) || overlapChars >= maxChars) {
    throw new RangeError(`invalid chunk options: maxChars=${maxChars}, overlapChars=${overlapChars}`)
  }
  // keepSeparator=false: with true, the splitter puts the separator at the *start* of the next piece
  // (". Then restart…"). Dropping it only costs the final period of a piece cut at a sentence boundary.
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: maxChars,
    chunkOverlap: overlapChars,
    keepSeparator: false,
    separators: ['\n\n', '\n', '. ', ' ', ''],
  })

  const lede = ledeOf(src)
  const chunks: IndexedChunk[] = []
  for (const { headingPath, text } of groupSections(src.sections, minChars, maxChars)) {
    const trimmed = text.trim()
    const pieces = trimmed.length > maxChars ? await splitter.splitText(trimmed) : [trimmed]
    for (const piece of pieces) {
      if (piece.trim() === '') continue
      // Retrieval sees the title and the headings, not just the passage: "Rollback" under "orders-db
      // disk full" must match a query about orders-db.
      const headings = headingPath.slice(1).join(' > ')
      chunks.push({
        ord: chunks.length,
        headingPath,
        text: piece,
        indexText: `${src.title}\n${headings}\n${piece}`,
        // The preamble's own chunks already hold the lede.
        lexicalText: lede && headingPath.length > 1 ? `${src.title}\n${lede}\n${headings}\n${piece}` : `${src.title}\n${headings}\n${piece}`,
        contentHash: sha256(`${headingPath.join(PATH_SEP)}\n${piece}`),
      })
    }
  }
  return chunks
}
