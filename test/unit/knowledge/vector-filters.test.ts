import { describe, expect, it } from 'vitest'
import { filtersBeyondKind } from '../../../src/knowledge/vector.js'

// nearestChunks skips its row count only for predicates that filter on nothing but the model and the kind.

describe('filtersBeyondKind', () => {
  it('model and kind alone are not a filter', () => {
    expect(filtersBeyondKind("c.embedding_model = 'local-hash-v1'")).toBe(false)
    expect(filtersBeyondKind("c.embedding_model = 'local-hash-v1' and c.kind = $1")).toBe(false)
    expect(filtersBeyondKind("c.embedding_model = 'it''s' and c.kind = $3")).toBe(false)
  })

  it('service, team or anything unrecognised is a filter', () => {
    expect(filtersBeyondKind("c.embedding_model = 'local-hash-v1' and c.service = $1")).toBe(true)
    expect(filtersBeyondKind("c.embedding_model = 'local-hash-v1' and c.team = $1 and c.kind = $2")).toBe(true)
    expect(filtersBeyondKind("c.embedding_model = 'local-hash-v1' and c.kind = 'runbook'")).toBe(true)
    expect(filtersBeyondKind("c.embedding_model = 'a' or true")).toBe(true)
    expect(filtersBeyondKind("c.embedding_model = 'x' and c.tags @> $1")).toBe(true)
  })
})
