import type { EmbeddingProvider } from './types.js'

// Local embeddings: the "hashing trick" over lexical features. No network, no model weights, pure JS,
// deterministic across runs and machines. Quality is lexical (shared words, word pairs, sub-word pieces),
// not semantic, so a small general SRE synonym/acronym table bridges the commonest abbreviations.
//
// Features of a text (after NFKD diacritic folding, lowercasing, tokenising, dropping stop words):
//   - unigrams: Porter-stemmed words, and identifiers kept intact (`lock_timeout`, `-detailed-exitcode`,
//     `5xx`, `p95`, `orders-db.prod`)                                                       weight 1
//   - identifier parts: `lock_timeout` → lock, timeout; `OOMKilled` → oom → out memory, killed  weight 0.5
//   - bigrams of adjacent content words, and of adjacent parts inside one identifier
//     (so prose "lock timeout" meets the identifier `lock_timeout`)                          weight 0.5
//   - character 4-grams of each word / part, with ^ and $ boundary marks (morphology, typos) weight 0.2
// Each feature is hashed (FNV-1a + murmur3 finaliser, 32 bits) to a bucket `h % dim`, signed by the top bit
// of the same hash (signed hashing keeps inner products unbiased by collisions), and weighted by
// class weight × (1 + ln tf). The result is L2-normalised.
//
// Versioning: the id names the exact feature function. Any change to the tokenizer, stemmer, stop words,
// synonym table, weights or hash MUST bump the version (local-hash-v2…), because stored vectors of the old
// function would otherwise be compared with new ones. The id carries the dimension when it is not the
// default (`local-hash-v1-384`), so differently sized vectors never share an id.
//
// Dimension: 512 by default. Hashing has no learned compression, so the dimension is the only defence
// against collision noise (its sd falls as 1/sqrt(dim)). Measured on ~180 runbook passages of ~750 chars,
// against a near-collision-free 65536-dim reference: overlap of the top-10 neighbours 0.75 at 384, 0.81 at
// 512, 0.86 at 768; top-1 agreement 0.50 / 0.61 / 0.67. The cost is pgvector HNSW work, linear in dim:
// embedded PGlite with 100k chunks built the index in 180 s at 384 vs 276 s at 512, queried in ~4 vs ~8 ms,
// and stores ~2 KB instead of ~1.5 KB per vector — a one-off build cost and latency far below an LLM call,
// for a clear gain in ranking. `dim: 384` remains available (id local-hash-v1-384).

export const LOCAL_EMBEDDING_VERSION = 'local-hash-v1'
export const DEFAULT_LOCAL_DIM = 512

const W_UNIGRAM = 1
const W_PART = 0.5
const W_BIGRAM = 0.5
const W_CHARGRAM = 0.2

// ---------------------------------------------------------------------------------------------------------
// Vocabulary tables

// A standard English stop list, minus words that carry meaning in operations prose
// ("down", "up", "off", "out": scale down, back off, out of memory).
const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are arent as at be because been before being ' +
    'below between both but by can cannot cant could couldnt did didnt do does doesnt doing dont during each ' +
    'either eg etc few for from further had hadnt has hasnt have havent having he hed hell hes her here heres ' +
    'hers herself him himself his how hows however i id ie if ill im ive in into is isnt it its itself lets ' +
    'may me might more most must mustnt my myself no nor not of on once only or other ought our ours ' +
    'ourselves over own same shall shant she shed shell shes should shouldnt so some such than that thats the ' +
    'their theirs them themselves then there theres these they theyd theyll theyre theyve this those through ' +
    'thus to too under until very via was wasnt we wed well were weve werent what whats when whens where ' +
    'wheres whether which while who whos whom why whys will with wont would wouldnt yet you youd youll your ' +
    'youre yours yourself yourselves e.g i.e'
  ).split(' '),
)

// General-purpose SRE abbreviations → their expansion (applied to whole words and to identifier parts,
// before stemming). Deliberately small; each entry is a common, unambiguous-in-ops abbreviation.
const SYNONYMS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['db', ['database']],
  ['dbs', ['databases']],
  ['k8s', ['kubernetes']],
  ['kube', ['kubernetes']],
  ['cert', ['certificate']],
  ['certs', ['certificates']],
  ['ssl', ['tls']],
  ['oom', ['out', 'memory']], // "out of memory" once "of" is dropped
  ['mem', ['memory']],
  ['config', ['configuration']],
  ['configs', ['configurations']],
  ['cfg', ['configuration']],
  ['env', ['environment']],
  ['envs', ['environments']],
  ['prod', ['production']],
  ['postgresql', ['postgres']],
  ['pg', ['postgres']],
  ['psql', ['postgres']],
  ['lb', ['load', 'balancer']],
  ['lbs', ['load', 'balancers']],
  ['svc', ['service']],
  ['svcs', ['services']],
  ['repo', ['repository']],
  ['repos', ['repositories']],
  ['msg', ['message']],
  ['msgs', ['messages']],
  ['err', ['error']],
  ['errs', ['errors']],
  ['req', ['request']],
  ['reqs', ['requests']],
  ['resp', ['response']],
  ['perf', ['performance']],
  ['infra', ['infrastructure']],
  ['deps', ['dependencies']],
  ['gc', ['garbage', 'collection']],
  ['rca', ['root', 'cause', 'analysis']],
])

// ---------------------------------------------------------------------------------------------------------
// Porter stemmer (M. F. Porter, 1980), applied to ASCII-alphabetic words longer than 2 letters.

function isCons(w: string, i: number): boolean {
  switch (w.charCodeAt(i)) {
    case 97: // a
    case 101: // e
    case 105: // i
    case 111: // o
    case 117: // u
      return false
    case 121: // y: a consonant at the start or after a vowel
      return i === 0 ? true : !isCons(w, i - 1)
    default:
      return true
  }
}

/** Porter's m: the number of VC sequences in w[0, end). */
function measure(w: string, end: number): number {
  let n = 0
  let i = 0
  while (i < end && isCons(w, i)) i++
  while (i < end) {
    while (i < end && !isCons(w, i)) i++
    if (i >= end) break
    n++
    while (i < end && isCons(w, i)) i++
  }
  return n
}

function hasVowel(w: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (!isCons(w, i)) return true
  return false
}

function endsDoubleCons(w: string): boolean {
  const n = w.length
  return n >= 2 && w.charCodeAt(n - 1) === w.charCodeAt(n - 2) && isCons(w, n - 1)
}

/** *o: ends consonant-vowel-consonant, the last not w, x or y. */
function endsCvc(w: string): boolean {
  const n = w.length
  if (n < 3 || !isCons(w, n - 3) || isCons(w, n - 2) || !isCons(w, n - 1)) return false
  const c = w[n - 1]
  return c !== 'w' && c !== 'x' && c !== 'y'
}

type Rule = readonly [suffix: string, replacement: string]
const byLengthDesc = (rules: Rule[]): Rule[] => rules.sort((a, b) => b[0].length - a[0].length)

const STEP2: Rule[] = byLengthDesc([
  ['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['abli', 'able'],
  ['alli', 'al'], ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'],
  ['ator', 'ate'], ['alism', 'al'], ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'],
  ['iviti', 'ive'], ['biliti', 'ble'],
])
const STEP3: Rule[] = byLengthDesc([
  ['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', ''],
])
const STEP4: string[] = [
  'al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ion', 'ou', 'ism', 'ate', 'iti',
  'ous', 'ive', 'ize',
].sort((a, b) => b.length - a.length)

/** Replaces the longest matching suffix when the remaining stem has m > minM; only the longest is tried. */
function applyRules(w: string, rules: readonly Rule[], minM: number): string {
  for (const [suffix, repl] of rules) {
    if (w.endsWith(suffix)) {
      const stem = w.length - suffix.length
      return measure(w, stem) > minM ? w.slice(0, stem) + repl : w
    }
  }
  return w
}

function porter(word: string): string {
  let w = word
  // Step 1a
  if (w.endsWith('sses')) w = w.slice(0, -2)
  else if (w.endsWith('ies')) w = w.slice(0, -2)
  else if (!w.endsWith('ss') && w.endsWith('s')) w = w.slice(0, -1)
  // Step 1b
  let cleanup = false
  if (w.endsWith('eed')) {
    if (measure(w, w.length - 3) > 0) w = w.slice(0, -1)
  } else if (w.endsWith('ed') && hasVowel(w, w.length - 2)) {
    w = w.slice(0, -2)
    cleanup = true
  } else if (w.endsWith('ing') && hasVowel(w, w.length - 3)) {
    w = w.slice(0, -3)
    cleanup = true
  }
  if (cleanup) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e'
    else if (endsDoubleCons(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1)
    else if (measure(w, w.length) === 1 && endsCvc(w)) w += 'e'
  }
  // Step 1c
  if (w.endsWith('y') && hasVowel(w, w.length - 1)) w = w.slice(0, -1) + 'i'
  // Steps 2, 3
  w = applyRules(w, STEP2, 0)
  w = applyRules(w, STEP3, 0)
  // Step 4
  for (const suffix of STEP4) {
    if (w.endsWith(suffix)) {
      const stem = w.length - suffix.length
      if (measure(w, stem) > 1 && (suffix !== 'ion' || /[st]$/.test(w.slice(0, stem)))) w = w.slice(0, stem)
      break
    }
  }
  // Step 5a
  if (w.endsWith('e')) {
    const stem = w.slice(0, -1)
    const m = measure(stem, stem.length)
    if (m > 1 || (m === 1 && !endsCvc(stem))) w = stem
  }
  // Step 5b
  if (w.endsWith('ll') && measure(w, w.length) > 1) w = w.slice(0, -1)
  return w
}

const stemCache = new Map<string, string>()
const STEM_CACHE_MAX = 50_000

/** Porter stem of a lowercase word; words that are not plain ASCII letters (or are ≤ 2 long) are returned as-is. */
export function stem(word: string): string {
  if (word.length <= 2) return word
  let s = stemCache.get(word)
  if (s === undefined) {
    if (!/^[a-z]+$/.test(word)) return word
    s = porter(word)
    if (stemCache.size >= STEM_CACHE_MAX) stemCache.clear()
    stemCache.set(word, s)
  }
  return s
}

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word)
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizer

// A token is a run of letters/digits, optionally joined by connectors (_ - . / : @) to further runs, e.g.
// `lock_timeout`, `orders-db.prod.internal`, `10.0.0.1`, `pg_stat_activity`. A command-line flag keeps its
// leading dashes (`-detailed-exitcode`, `--dry-run`) when they start a word.
const TOKEN_RE = /(?<![\p{L}\p{N}_\-])-{1,2}(?=\p{L})[\p{L}\p{N}]+(?:[_\-./:@]+[\p{L}\p{N}]+)*|[\p{L}\p{N}]+(?:[_\-./:@]+[\p{L}\p{N}]+)*/gu
const CONNECTORS_RE = /[_\-./:@]+/
const NON_ASCII_RE = /[^\x00-\x7f]/
const CAMEL_RE = /[a-z0-9][A-Z]|[A-Z]{2}[a-z]/

function normalise(text: string): string {
  let t = text
  // Fold compatibility forms (ﬁ, fullwidth letters) and Latin diacritics (café → cafe); recompose the rest.
  if (NON_ASCII_RE.test(t)) t = t.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').normalize('NFC')
  // Apostrophes vanish so that don't → dont (a stop word) and pod's → pods → pod.
  return t.replace(/['’]/g, '')
}

const isUpper = (c: number): boolean => c >= 65 && c <= 90
const isLower = (c: number): boolean => c >= 97 && c <= 122
const isLowerOrDigit = (c: number): boolean => isLower(c) || (c >= 48 && c <= 57)

/** Splits camelCase / PascalCase (`OOMKilled` → OOM, Killed; `CrashLoopBackOff` → Crash, Loop, Back, Off). */
function splitCamel(piece: string, out: string[]): void {
  if (!CAMEL_RE.test(piece)) {
    out.push(piece)
    return
  }
  let start = 0
  for (let i = 1; i < piece.length; i++) {
    const prev = piece.charCodeAt(i - 1)
    const cur = piece.charCodeAt(i)
    const boundary =
      (isLowerOrDigit(prev) && isUpper(cur)) || // fooBar, http2Client
      (isUpper(prev) && isUpper(cur) && i + 1 < piece.length && isLower(piece.charCodeAt(i + 1))) // OOMKilled
    // Never cut off a single letter (IPv4, iPhone stay whole).
    if (boundary && i - start >= 2 && piece.length - i >= 2) {
      out.push(piece.slice(start, i))
      start = i
    }
  }
  out.push(piece.slice(start))
}

/** One token of the text, with what the embedding derives from it. */
interface Token {
  /** A compound identifier or flag (terms = [the intact token]) rather than plain word(s). */
  compound: boolean
  /** Index terms in reading order (stemmed words, or the intact identifier); several after synonym expansion. */
  terms: string[]
  /** Surface forms (lowercase, unstemmed) that get character n-grams. */
  surfaces: string[]
  /** Stemmed parts of a compound identifier (empty for plain words). */
  parts: string[]
}

/** Expands synonyms, drops stop words and short junk, stems; pushes onto `terms` / `surfaces`. */
function addWord(word: string, keepStop: boolean, terms: string[], surfaces: string[]): void {
  const expanded = SYNONYMS.get(word)
  if (expanded) {
    for (const w of expanded) addWord(w, keepStop, terms, surfaces)
    return
  }
  if (word.length < 2) return
  if (!keepStop && STOP_WORDS.has(word)) return
  terms.push(stem(word))
  surfaces.push(word)
}

const PLAIN_LOWER_RE = /^[a-z]+$/

function analyse(text: string, keepStop: boolean): Token[] {
  const tokens: Token[] = []
  const pieces: string[] = []
  TOKEN_RE.lastIndex = 0
  const src = normalise(text)
  for (let m = TOKEN_RE.exec(src); m !== null; m = TOKEN_RE.exec(src)) {
    const raw = m[0]
    // Fast path: a plain lowercase word (most of any text).
    if (PLAIN_LOWER_RE.test(raw)) {
      const t: Token = { compound: false, terms: [], surfaces: [], parts: [] }
      addWord(raw, keepStop, t.terms, t.surfaces)
      if (t.terms.length > 0) tokens.push(t)
      continue
    }
    pieces.length = 0
    const body = raw.charCodeAt(0) === 45 /* - */ ? raw.replace(/^-+/, '') : raw
    for (const piece of body.split(CONNECTORS_RE)) splitCamel(piece, pieces)
    if (pieces.length === 1 && body === raw) {
      const t: Token = { compound: false, terms: [], surfaces: [], parts: [] }
      addWord(raw.toLowerCase(), keepStop, t.terms, t.surfaces)
      if (t.terms.length > 0) tokens.push(t)
      continue
    }
    // A compound identifier (or a flag): kept whole, not stemmed, not synonym-mapped; its parts are.
    const intact = raw.toLowerCase()
    if (!keepStop && STOP_WORDS.has(intact)) continue
    const t: Token = { compound: true, terms: [intact], surfaces: [], parts: [] }
    for (const p of pieces) addWord(p.toLowerCase(), keepStop, t.parts, t.surfaces)
    tokens.push(t)
  }
  return tokens
}

export interface TokenizeOptions {
  /** Porter-stem plain words (default true). Identifiers are never stemmed; their parts are. */
  stem?: boolean
  /** Keep English stop words (default false). */
  keepStopWords?: boolean
  /** Also emit the parts of compound identifiers after the identifier itself (default true). */
  parts?: boolean
}

/**
 * The tokenizer the local embedding uses, exposed for full-text search and evals. Lowercases, folds Unicode,
 * keeps identifiers intact (`lock_timeout`, `-detailed-exitcode`, `5xx`, `p95`) followed by their parts
 * (`lock`, `timeout`), expands the SRE abbreviation table (db → database, k8s → kubernetes, …), drops stop
 * words and Porter-stems plain words. Order follows the text.
 */
export function tokenize(text: string, opts: TokenizeOptions = {}): string[] {
  const doStem = opts.stem ?? true
  const withParts = opts.parts ?? true
  const out: string[] = []
  for (const t of analyse(text, opts.keepStopWords ?? false)) {
    if (!t.compound) {
      out.push(...(doStem ? t.terms : t.surfaces))
      continue
    }
    out.push(t.terms[0]!)
    if (withParts) out.push(...(doStem ? t.parts : t.surfaces))
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Hashing

const FNV_PRIME = 0x01000193
// Distinct FNV offset bases per feature class, so the word "disk" and the 4-gram "disk" never share a hash.
const SEED_TERM = 0x811c9dc5
const SEED_BIGRAM = 0x050c5d1f
const SEED_GRAM = 0x2b992ddf

function fnv1a(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME)
  return h
}

/** murmur3's 32-bit finaliser: spreads FNV's weak high bits before `% dim` and the sign bit. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const termHash = (t: string): number => fmix32(fnv1a(t, SEED_TERM))
const bigramHash = (a: string, b: string): number => fmix32(fnv1a(b, Math.imul(fnv1a(a, SEED_BIGRAM) ^ 0x20, FNV_PRIME)))

const BOUNDARY_START = 0x5e // ^
const BOUNDARY_END = 0x24 // $
const MAX_GRAM_WORD = 40 // long blobs (hashes, URLs) add only noise past this

/** A reusable open-addressing counter of 32-bit feature hashes (far faster than Map<number, number>). */
class Counter {
  private keys = new Uint32Array(1024)
  private counts = new Uint32Array(1024) // 0 = empty slot
  private used: number[] = []

  add(key: number): void {
    const mask = this.keys.length - 1
    let i = key & mask
    for (;;) {
      const c = this.counts[i]!
      if (c === 0) {
        this.keys[i] = key
        this.counts[i] = 1
        this.used.push(i)
        if (this.used.length * 2 > this.keys.length) this.grow()
        return
      }
      if (this.keys[i] === key) {
        this.counts[i] = c + 1
        return
      }
      i = (i + 1) & mask
    }
  }

  /** Adds weight × (1 + ln tf) of every feature, signed by its top bit, into bucket key % dim; then empties. */
  drainInto(vec: Float64Array, weight: number, dim: number): void {
    for (const i of this.used) {
      const key = this.keys[i]!
      const w = weight * (1 + Math.log(this.counts[i]!))
      vec[key % dim]! += key >>> 31 ? -w : w
      this.counts[i] = 0
    }
    this.used.length = 0
  }

  private grow(): void {
    const oldKeys = this.keys
    const oldCounts = this.counts
    const oldUsed = this.used
    this.keys = new Uint32Array(oldKeys.length * 2)
    this.counts = new Uint32Array(oldKeys.length * 2)
    this.used = []
    const mask = this.keys.length - 1
    for (const j of oldUsed) {
      let i = oldKeys[j]! & mask
      while (this.counts[i] !== 0) i = (i + 1) & mask
      this.keys[i] = oldKeys[j]!
      this.counts[i] = oldCounts[j]!
      this.used.push(i)
    }
  }
}

/** Counts the character 4-grams of ^word$ (a single gram for 1–2 letter words); none for pure numbers. */
function addCharGrams(word: string, counter: Counter): void {
  const n = Math.min(word.length, MAX_GRAM_WORD)
  let digits = true
  for (let i = 0; i < n && digits; i++) {
    const c = word.charCodeAt(i)
    digits = c >= 48 && c <= 57
  }
  if (digits) return
  // Sliding window over the codes of ^word$, positions -1 … n.
  let c0 = BOUNDARY_START
  let c1 = word.charCodeAt(0)
  let c2 = n > 1 ? word.charCodeAt(1) : BOUNDARY_END
  for (let i = 2; i <= n + 1; i++) {
    const c3 = i < n ? word.charCodeAt(i) : BOUNDARY_END
    let h = Math.imul(SEED_GRAM ^ c0, FNV_PRIME)
    h = Math.imul(h ^ c1, FNV_PRIME)
    h = Math.imul(h ^ c2, FNV_PRIME)
    h = Math.imul(h ^ c3, FNV_PRIME)
    counter.add(fmix32(h))
    if (i >= n) break // c3 was the end mark
    c0 = c1
    c1 = c2
    c2 = c3
  }
}

// Scratch counters reused across calls (embedding a text is synchronous).
const uni = new Counter()
const partUni = new Counter()
const bi = new Counter()
const grams = new Counter()

/** Embeds one text into a unit vector of length `dim`. */
export function embedText(text: string, dim: number = DEFAULT_LOCAL_DIM): number[] {
  let tokens = analyse(text, false)
  // Text made only of stop words ("is it down?" minus "down") still deserves a vector of its own words.
  if (tokens.length === 0) tokens = analyse(text, true)

  let prev: string | undefined
  for (const t of tokens) {
    for (const term of t.terms) {
      uni.add(termHash(term))
      if (prev !== undefined) bi.add(bigramHash(prev, term))
      prev = term
    }
    for (let i = 0; i < t.parts.length; i++) {
      partUni.add(termHash(t.parts[i]!))
      if (i > 0) bi.add(bigramHash(t.parts[i - 1]!, t.parts[i]!))
    }
    for (const s of t.surfaces) addCharGrams(s, grams)
  }

  const vec = new Float64Array(dim)
  uni.drainInto(vec, W_UNIGRAM, dim)
  partUni.drainInto(vec, W_PART, dim)
  bi.drainInto(vec, W_BIGRAM, dim)
  grams.drainInto(vec, W_CHARGRAM, dim)

  let sq = 0
  for (let i = 0; i < dim; i++) sq += vec[i]! * vec[i]!
  const out = new Array<number>(dim)
  if (sq === 0) {
    // Nothing to hash (empty, whitespace or punctuation only), or signed features cancelled exactly. A zero
    // vector has no cosine (pgvector returns NaN and HNSW cannot place it), so return the fixed unit vector
    // e0: deterministic, valid everywhere, and it scores near 0 against real text.
    out.fill(0)
    out[0] = 1
    return out
  }
  const inv = 1 / Math.sqrt(sq)
  for (let i = 0; i < dim; i++) out[i] = vec[i]! * inv
  return out
}

export function createLocalEmbeddings(opts: { dim?: number } = {}): EmbeddingProvider {
  const dim = opts.dim ?? DEFAULT_LOCAL_DIM
  // 2000 is pgvector's limit for an HNSW index on `vector`.
  if (!Number.isInteger(dim) || dim < 8 || dim > 2000) {
    throw new Error(`local embeddings: dim must be an integer in [8, 2000], got ${dim}`)
  }
  return {
    id: dim === DEFAULT_LOCAL_DIM ? LOCAL_EMBEDDING_VERSION : `${LOCAL_EMBEDDING_VERSION}-${dim}`,
    dim,
    async embed(texts: string[]): Promise<number[][]> {
      return texts.map((t) => embedText(t, dim))
    },
  }
}
