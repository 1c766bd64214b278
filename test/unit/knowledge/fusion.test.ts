import { describe, expect, it } from 'vitest'
import { fuse, type VectorScore } from '../../../src/knowledge/search.js'

// fuse(): score fusion with a share of weighted reciprocal rank fusion (search.ts). Ids are chunk ids; the
// caller sorts by fused score, ties by lower id.

const fts = (rows: Array<[id: number, score: number]>) => new Map(rows.map(([id, score], i) => [id, { rank: i + 1, score }]))
const vec = (rows: Array<[id: number, score: number]>) =>
  new Map<number, VectorScore>(rows.map(([id, score], i) => [id, { rank: i + 1, similarity: score, score }]))
const order = (m: Map<number, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id]) => id)

describe('fuse (hybrid ranking)', () => {
  it('is one ranker\u2019s own normalised score order when the other found nothing', () => {
    const f = fuse(fts([[3, 8], [1, 6], [2, 2]]), new Map(), 0.2)
    expect(order(f)).toEqual([3, 1, 2])
    expect(f.get(1)).toBeCloseTo(0.75)
    const v = fuse(new Map(), vec([[5, 0.9], [4, 0.45]]), 0.2)
    expect(order(v)).toEqual([5, 4])
    expect(v.get(4)).toBeCloseTo(0.5)
  })

  it('decides between nearly level scores in favour of the chunk placed higher in both lists', () => {
    // Score fusion alone puts chunk 1 ahead by a hair (0.8 · 0.975 + 0.2 = 0.98 against 0.8 + 0.2 · 0.89 =
    // 0.978). Chunk 2 is first in full text and third for vectors; chunk 1 is second and first.
    const f = fuse(fts([[2, 10], [1, 9.75]]), vec([[1, 1], [3, 0.95], [2, 0.89]]), 0.2)
    expect(order(f).slice(0, 2)).toEqual([2, 1])
  })

  it('keeps a large score lead: ranks do not overturn it', () => {
    // Chunk 2 has the better reciprocal-rank sum (second in full text, first for vectors, against first in full
    // text only) but half of chunk 1's BM25 score.
    const f = fuse(fts([[1, 10], [2, 5]]), vec([[2, 1]]), 0.2)
    expect(order(f)).toEqual([1, 2])
  })
})
