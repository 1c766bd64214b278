import { normaliseText } from './text.js'

// The assistant proposes hypotheses; it does not establish root causes. An incident's cause is
// confirmed by people after the fact, so a draft that states one with certainty overstates what the
// evidence can show and anchors responders on it. Hypotheses must be framed as possibilities
// ("possibly", "consistent with", "may be"), so these phrases are removed wherever they appear.
//
// The list is intentionally literal: "was caused by" is flagged, "may have been caused by" is not.
// A hedge elsewhere in the sentence does not excuse "the root cause is": the phrase itself asserts.

const PHRASES: readonly RegExp[] = [
  /\bthe\s+root\s+cause\s+(?:is|was)\b/gi,
  /\broot\s+cause\s*:/gi,
  /\bthe\s+cause\s+(?:is|was)\b/gi,
  /\b(?:is|was|are|were)\s+caused\s+by\b/gi,
  /\bclearly\s+the\s+cause\b/gi,
  /\bit\s+is\s+confirmed\b|\bit's\s+confirmed\b/gi,
  /\bdefinitely\b/gi,
  /\bcertainly\b/gi,
  /\bundoubtedly\b/gi,
  /\bwithout\s+(?:a\s+|any\s+)?doubt\b/gi,
  /\b100\s?%\s+(?:sure|certain|confident)\b/gi,
  /\bguaranteed\b/gi,
]

/** The certainty phrases in `text`, lower-cased, in order of appearance, without duplicates. */
export function certaintyPhrases(text: string): string[] {
  const norm = normaliseText(text).replace(/\s+/g, ' ')
  const hits: Array<{ index: number; phrase: string }> = []
  for (const re of PHRASES) {
    for (const m of norm.matchAll(re)) hits.push({ index: m.index, phrase: m[0].toLowerCase() })
  }
  hits.sort((a, b) => a.index - b.index)
  return [...new Set(hits.map((h) => h.phrase))]
}
