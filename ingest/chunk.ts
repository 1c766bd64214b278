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
 * Identifies the chunking output for a given input; the pipeline mixes it into source hashes so that a
 * chunking change re-indexes everything. Bump the number when the algorithm changes; the defaults are
 * included so that tuning them does the same without anyone remembering to bump.
 */
export const CHUNKER_VERSION = `heading-aware-1:${CHUNK_DEFAULTS.maxChars}/${CHUNK_DEFAULTS.overlapChars}/${CHUNK_DEFAULTS.minChars}`

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

export async function chunkSource(src: ParsedSource, opts: ChunkOptions = {}): Promise<Chunk[]> {
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

  const chunks: Chunk[] = []
  for (const { headingPath, text } of groupSections(src.sections, minChars, maxChars)) {
    const trimmed = text.trim()
    const pieces = trimmed.length > maxChars ? await splitter.splitText(trimmed) : [trimmed]
    for (const piece of pieces) {
      if (piece.trim() === '') continue
      chunks.push({
        ord: chunks.length,
        headingPath,
        text: piece,
        // Retrieval sees the title and the headings, not just the passage: "Rollback" under "orders-db
        // disk full" must match a query about orders-db.
        indexText: `${src.title}\n${headingPath.slice(1).join(' > ')}\n${piece}`,
        contentHash: sha256(`${headingPath.join(PATH_SEP)}\n${piece}`),
      })
    }
  }
  return chunks
}
