import { normaliseText } from './text.js'

// A draft may only state numbers and identifiers that occur in the evidence it was given. Invented
// specifics ("p99 is 870 ms", "v2026.12.9") are the most damaging fabrication in an incident: they look
// authoritative and send responders to the wrong place. Words are not checked (that is the citation
// rule's job); only tokens a reader would take as measured or named facts.
//
// Choices, so they are not rediscovered:
// - Integers 0–10 written alone (no unit) are ignored: "2 replicas", "step 3", "one of 4 pods" are too
//   generic to be a fabricated fact and too common to demand a source. With a unit they count ("5m").
//   Years are not small: "2026" must be in the evidence. List markers ("1.", "2)") are stripped first.
// - Numbers compare by value and unit: "7.2%" matches "7.2 %"/"7.2 percent", "1,500" matches "1500",
//   "512Mi" matches "512 MiB". A bare number in the statement matches that number with any unit; a
//   bare number in the evidence (telemetry JSON: "latency_p99_ms": 690) matches any unit too. Digits
//   glued to letters ("5xx", "p99", "v2026") are part of an identifier, never a number, on both sides.
// - Identifiers compare case-insensitively as substrings, with "-", "_" and spaces interchangeable
//   ("gift-wrap" matches "gift wrap"). Hyphenated English words ("on-call", "read-only",
//   "user-facing") are not identifiers: a part from COMPOUND_PARTS excludes the token.

const UNITS: Record<string, string> = {
  '%': '%', percent: '%', pct: '%',
  ms: 'ms', msec: 'ms', millisecond: 'ms', milliseconds: 'ms', us: 'us',
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'min', min: 'min', mins: 'min', minute: 'min', minutes: 'min',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h', d: 'd', day: 'd', days: 'd',
  b: 'b', byte: 'b', bytes: 'b', kb: 'kb', mb: 'mb', gb: 'gb', tb: 'tb', pb: 'pb',
  k: 'k', ki: 'ki', kib: 'ki', mi: 'mi', mib: 'mi', gi: 'gi', gib: 'gi', ti: 'ti', tib: 'ti',
  x: 'x', rps: 'rps', qps: 'qps', rpm: 'rpm', core: 'core', cores: 'core', vcpu: 'vcpu', vcpus: 'vcpu',
  req: 'req', reqs: 'req', requests: 'req', ops: 'ops', msgs: 'msg', messages: 'msg', events: 'event',
}
const TIME = new Set(['ms', 's', 'min', 'h', 'd'])
const ORDINAL = /^(?:st|nd|rd|th)$/

const COMPOUND_PARTS = new Set(
  ('a an the and or of to by per on off in out up down over under via re pre non co self multi cross sub semi anti post auto ' +
    'e well ill high low long short full half all end real time side facing related based driven level wide free safe only like ' +
    'term known lived aware bound heavy intensive specific scale grained call hoc first last read write user hot cold warm ' +
    'one two three day week hour minute second follow roll set built').split(' '),
)

/** Canonical unit for a suffix ("GB/h" → "gb/h"), '' for ordinals, undefined if it is not a unit. */
function unitOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return ''
  const [base = '', per] = raw.toLowerCase().split('/')
  if (ORDINAL.test(base) && per === undefined) return ''
  const b = UNITS[base]
  if (per === undefined) return b
  const p = UNITS[per]
  return b !== undefined && p !== undefined && TIME.has(p) ? `${b}/${p}` : undefined
}

function canonicalNumber(raw: string): string {
  const [int = '', frac = ''] = raw.split('.')
  const i = int.replace(/^0+(?=\d)/, '')
  const f = frac.replace(/0+$/, '')
  return f ? `${i}.${f}` : i
}

const joinThousands = (s: string) => s.replace(/(?<![\d,.])(\d{1,3})((?:,\d{3})+)(?![\d,])/g, (_, a: string, b: string) => a + b.replace(/,/g, ''))
const loose = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '-')
const NUMBER = /(?<![\p{L}\p{N}_.])(\d+(?:\.\d+)?)(?:\s?(%|[a-z]+(?:\/[a-z]+)?))?(?![\p{L}\p{N}_])/giu
const EVIDENCE_NUMBER = /(?<![\p{L}\p{N}_]|\p{N}\.)(\d+(?:\.\d+)?)(?!\p{N})(?:(\s?)(%|[a-z]+(?:\/[a-z]+)?))?/giu

export interface NormalisedEvidence {
  readonly loose: string
  /** canonical number → canonical units seen with it ('' = bare). */
  readonly numbers: ReadonlyMap<string, ReadonlySet<string>>
}

/** Normalise evidence once; pass the result to unsupportedFacts for every statement. */
export function normaliseEvidence(text: string): NormalisedEvidence {
  const norm = normaliseText(text).toLowerCase()
  const numbers = new Map<string, Set<string>>()
  // "[100,200,300]" in JSON and "1,500" in prose are both read both ways: evidence may only widen.
  for (const variant of [norm, joinThousands(norm)]) {
    for (const m of variant.matchAll(EVIDENCE_NUMBER)) {
      const unit = unitOf(m[3])
      if (unit === undefined && m[2] === '') continue // "5xx", "2nd"-like words are identifiers, not numbers
      const n = canonicalNumber(m[1] ?? '')
      const set = numbers.get(n) ?? new Set<string>()
      set.add(unit ?? '')
      numbers.set(n, set)
    }
  }
  return { loose: loose(norm), numbers }
}

function isIdentifier(token: string): boolean {
  const digit = /\p{N}/u.test(token)
  const letter = /\p{L}/u.test(token)
  if (digit && letter) {
    const m = /^(\d+(?:\.\d+)?)(\p{L}+)$/u.exec(token)
    return !(m && unitOf(m[2]) !== undefined) // "30s", "512Mi", "2nd" are numbers; "5xx", "p99" are not
  }
  if (digit) return /[.:_-]/.test(token) && !/^\d+(?:\.\d+)?$/.test(token) // 10.0.4.12, 2026-11-21, 14:00
  if (token.includes('_')) return token.split('_').filter(Boolean).length >= 2
  if (!token.includes('-')) return false
  const parts = token.toLowerCase().split(/[-.]/).filter(Boolean)
  return parts.length >= 2 && !parts.some((p) => COMPOUND_PARTS.has(p))
}

/** Numbers and identifiers in `statement` that the evidence does not contain, as written in the statement. */
export function unsupportedFacts(statement: string, evidence: string | NormalisedEvidence): string[] {
  const ev = typeof evidence === 'string' ? normaliseEvidence(evidence) : evidence
  const missing: string[] = []
  const hasId = (id: string) => ev.loose.includes(loose(id))
  let rest = joinThousands(normaliseText(statement)).replace(/^\d{1,3}[.)](?=\s)/gm, ' ')

  rest = rest.replace(/`([^`\n]+)`/g, (span, code: string) => {
    if (code.trim() && !hasId(code.trim())) missing.push(span)
    return ' '
  })
  const TOKEN = /[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]|(?<=\p{N}):(?=\p{N}))*/gu
  rest = rest.replace(TOKEN, (raw) => {
    const token = raw.replace(/[.-]+$/, '')
    if (!isIdentifier(token)) return raw
    if (!hasId(token)) missing.push(token)
    return ' '.repeat(raw.length)
  })
  for (const m of rest.matchAll(NUMBER)) {
    const n = canonicalNumber(m[1] ?? '')
    const unit = unitOf(m[2]) ?? ''
    const surface = unit === '' && m[2] !== undefined && unitOf(m[2]) === undefined ? (m[1] ?? '') : m[0]
    if (unit === '' && /^\d+$/.test(n) && Number(n) <= 10) continue
    const seen = ev.numbers.get(n)
    if (!seen || !(unit === '' || seen.has(unit) || seen.has(''))) missing.push(surface)
  }
  return [...new Set(missing)]
}
