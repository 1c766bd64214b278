import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { problem } from './errors.js'

// Reading and parsing shared by the three reference files. The cross-reference checks run on the raw
// parsed YAML (not only on schema-valid data) so that a type error in one entry does not hide an
// unknown team in another; the small `as*` readers below make that tolerant of any shape.

/**
 * File bytes (the policy hashes them) and their text, or a problem naming the file. Decoding is
 * strict UTF-8: invalid bytes are an error, not silently patched with U+FFFD.
 */
export function readText(path: string): { bytes: Buffer | null; text: string | null; problems: string[] } {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    return { bytes: null, text: null, problems: [`${path}: cannot read file (${code})`] }
  }
  try {
    return { bytes, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), problems: [] }
  } catch {
    return { bytes, text: null, problems: [`${path}: file is not valid UTF-8`] }
  }
}

/** Parses one YAML document; syntax errors carry line and column. Duplicate map keys are errors. */
export function parseYaml(text: string, source: string): { data: unknown; problems: string[] } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0])
      return `${source}: line ${line}, column ${col}: YAML syntax error: ${e.message}`
    })
    return { data: undefined, problems }
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), problems: [] }
  } catch (err) {
    return { data: undefined, problems: [problem(source, [], `cannot read YAML: ${(err as Error).message}`)] }
  }
}

export function asRecord(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
}

export function asString(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

/** The string items of a list with their original index (other items are the schema's business). */
export function asStrings(v: unknown): Array<[index: number, value: string]> {
  if (!Array.isArray(v)) return []
  const out: Array<[number, string]> = []
  v.forEach((item, i) => {
    if (typeof item === 'string') out.push([i, item])
  })
  return out
}

/** `(known: a, b, c)` — short enough to read in an error line. */
export function known(values: Iterable<string>, max = 20): string {
  const all = [...values]
  const shown = all.slice(0, max).join(', ')
  return `(known: ${all.length === 0 ? 'none' : shown}${all.length > max ? `, … ${all.length - max} more` : ''})`
}
