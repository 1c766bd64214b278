// Text normalisation shared by every guard check. Untrusted text (and a model that was shown it) can
// hide words behind compatibility forms (fullwidth letters, ligatures), invisible characters, look-alike
// letters from other scripts and odd spacing. Every check runs on the same normalised form, so a trick
// that slips past one check cannot slip past another, and what is compared is what a reader sees.

// Zero-width and formatting characters, bidi controls, and Unicode "tag" characters (which can carry
// invisible ASCII). None of them changes what a human reads; all of them can split a keyword.
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|[\u{E0000}-\u{E007F}]/gu

// Dashes and minus signs written as a hyphen: "pre‐approved" (U+2010) must read as "pre-approved", and
// a range "12–40" in a runbook must match "12-40" in a draft.
const DASHES = /[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/g

// Cyrillic and Greek letters that render like Latin ones. NFKC keeps them distinct, so "іgnore" with a
// Cyrillic і would otherwise evade every pattern. Only look-alikes are folded, not whole alphabets.
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ɡ: 'g',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X', І: 'I', Ј: 'J', Ѕ: 'S',
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
}
const CONFUSABLE_RE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g')

/** NFKC, invisible characters removed, look-alikes folded, horizontal whitespace collapsed; newlines kept (line-start patterns need them). */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(DASHES, '-')
    .replace(CONFUSABLE_RE, (c) => CONFUSABLES[c] ?? c)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n\s*/g, '\n')
    .trim()
}

export interface Sentence {
  text: string
  /** The whitespace that followed it in the original, so kept sentences can be rejoined exactly. */
  sep: string
}

/**
 * Splits after . ! ? followed by whitespace, and at line breaks. The rule looks only at the end of a
 * sentence and its separator, never at what follows, so dropping a sentence and rejoining the rest
 * splits the same way again: that keeps the guard idempotent. Decimals ("7.2%") never split.
 */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = []
  const boundary = /([.!?])(\s+)|(\s*\n\s*)/g
  let start = 0
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m[1] !== undefined ? m.index + 1 : m.index
    const piece = text.slice(start, end)
    const sep = m[1] !== undefined ? (m[2] ?? '') : m[0]
    if (piece.trim() !== '') out.push({ text: piece, sep })
    else if (out.length > 0) out[out.length - 1]!.sep += piece + sep
    start = m.index + m[0].length
  }
  const rest = text.slice(start)
  if (rest.trim() !== '') out.push({ text: rest, sep: '' })
  return out
}

export function joinSentences(sentences: Sentence[]): string {
  return sentences.map((s) => s.text + s.sep).join('').trim()
}

/** Short, single-line rendering for intervention details (they end up in the audit log). */
export function clip(text: string, max = 160): string {
  const one = text.replace(/\s+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}
