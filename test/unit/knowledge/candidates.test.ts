import { describe, expect, it } from 'vitest'
import { candidateQuery, lengthPriorFor, vectorWeightFor } from '../../../src/knowledge/search.js'
import type { QueryLexeme } from '../../../src/knowledge/termstats.js'

const lx = (lexeme: string, df: number, part = false): QueryLexeme => ({ lexeme, df, part })

describe('candidateQuery (which lexemes form the BM25 candidate set)', () => {
  it('ORs every lexeme when the corpus is small or statistics are missing', () => {
    const all = [lx('disk', 40), lx('wal', 3), lx('slot', 12)]
    // Without statistics nothing is known about the count: all of it is capped. With them, all of it is exact.
    expect(candidateQuery(all, 0)).toEqual({ match: "'disk' | 'wal' | 'slot'", narrowed: false, exact: null, capped: "'disk' | 'wal' | 'slot'" })
    expect(candidateQuery(all, 1200)).toEqual({ match: "'disk' | 'wal' | 'slot'", narrowed: false, exact: "'wal' | 'slot' | 'disk'", capped: null })
  })

  it('leaves out the commonest words of a big corpus once the rarer ones cover enough rows', () => {
    const q = candidateQuery([lx('servic', 30_000), lx('wal', 300), lx('slot', 500), lx('error', 25_000)], 100_000)
    expect(q).toEqual({ match: "'wal' | 'slot'", narrowed: true, exact: "'wal' | 'slot'", capped: null })
  })

  it('requires two common words to co-occur when every word is common, never pairing a hyphenated word with its parts', () => {
    const q = candidateQuery(
      [lx('payments-api', 8000), lx('payment', 8000, true), lx('api', 20_000, true), lx('timeout', 6000), lx('retri', 5000)],
      100_000,
    )
    expect(q.narrowed).toBe(true)
    expect(q.match).toContain("('retri' & 'timeout')")
    // Pairs are estimated assuming independence (words of one topic co-occur far more): only they are capped.
    expect(q.exact).toBeNull()
    expect(q.capped).toBe(q.match)
    expect(q.match).not.toMatch(/'payments-api' & 'payment'|'payment' & 'payments-api'|'api'/)
  })

  it('still reads the rarest word of a one-word query, however common', () => {
    expect(candidateQuery([lx('servic', 30_000)], 100_000)).toEqual({ match: "'servic'", narrowed: false, exact: null, capped: "'servic'" })
    expect(candidateQuery([lx('servic', 30_000), lx('error', 40_000, true)], 100_000)).toEqual({ match: "'servic'", narrowed: true, exact: null, capped: "'servic'" })
  })

  it('reads the rare words whole and caps only the estimated part (rare words of new documents are never cut)', () => {
    const q = candidateQuery([lx('bastion-eu-01', 3), lx('memavail', 40), lx('memori', 9000), lx('pressur', 7000), lx('swap', 6000)], 100_000)
    expect(q.narrowed).toBe(true)
    expect(q.exact).toBe("'bastion-eu-01' | 'memavail'")
    expect(q.capped).toMatch(/^\('swap' & 'pressur'\)/)
    expect(q.match).toBe(`${q.exact} | ${q.capped}`)
  })

  it('quotes lexemes so that they are not parsed again', () => {
    expect(candidateQuery([lx("o'brien", 1), lx('c:\\temp', 1)], 0).match).toBe("'o''brien' | 'c:\\\\temp'")
  })
})

describe('vectorWeightFor (weight of the vector ranker in the hybrid fusion)', () => {
  it('gives the local hashing embedder a fifth, a semantic embedder half, and honours a clamped override', () => {
    expect(vectorWeightFor('local-hash-v1')).toBe(0.2)
    expect(vectorWeightFor('local-hash-v1-384')).toBe(0.2)
    expect(vectorWeightFor('openai:text-embedding-3-small')).toBe(0.5)
    expect(vectorWeightFor('local-hash-v1', 0.6)).toBe(0.6)
    expect(vectorWeightFor('x', 2)).toBe(1)
    expect(vectorWeightFor('x', -1)).toBe(0)
  })
})

describe('lengthPriorFor (exponent of the vector ranker length prior)', () => {
  it('applies to the local hashing embedder only, and honours a clamped override', () => {
    expect(lengthPriorFor('local-hash-v1')).toBe(0.3)
    expect(lengthPriorFor('local-hash-v1-384')).toBe(0.3)
    expect(lengthPriorFor('openai:text-embedding-3-small')).toBe(0)
    expect(lengthPriorFor('openai:text-embedding-3-small', 0.2)).toBe(0.2)
    expect(lengthPriorFor('x', 2)).toBe(1)
    expect(lengthPriorFor('x', -1)).toBe(0)
  })
})
