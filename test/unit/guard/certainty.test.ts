import { describe, expect, it } from 'vitest'
import { certaintyPhrases } from '../../../src/assistant/guard/index.js'

describe('certaintyPhrases', () => {
  it.each([
    ['The root cause is the deploy', ['the root cause is']],
    ['Root cause: DNS', ['root cause:']],
    ['This was caused by the flag change and is definitely the deploy', ['was caused by', 'definitely']],
    ['It is confirmed. Without a doubt, 100% sure, guaranteed.', ['it is confirmed', 'without a doubt', '100% sure', 'guaranteed']],
    ['Clearly the cause is the pool', ['clearly the cause', 'the cause is']],
    ['It certainly looks like the cache', ['certainly']],
  ])('%s', (text, phrases) => {
    expect(certaintyPhrases(text)).toEqual(phrases)
  })

  it('accepts hypotheses framed as possibilities', () => {
    expect(certaintyPhrases('Possibly the deploy v2026.11.3 [E1]')).toEqual([])
    expect(certaintyPhrases('The errors may have been caused by the flag change; a likely cause is the pool.')).toEqual([])
  })

  it('is not fooled by zero-width characters', () => {
    expect(certaintyPhrases('defi\u200bnitely')).toEqual(['definitely'])
  })
})
