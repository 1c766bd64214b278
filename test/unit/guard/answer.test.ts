import { describe, expect, it } from 'vitest'
import { guardAnswer } from '../../../src/assistant/guard/index.js'
import { pack } from './fixtures.js'

describe('guardAnswer', () => {
  it('applies the citation, facts and certainty rules sentence by sentence', () => {
    const sentences = [
      { text: 'checkout-api returns 5xx at 7.2% since v2026.11.3.', citations: ['E1', 'E7'] },
      { text: 'The exact p99 right now is 870 ms.', citations: ['E4'] },
      { text: 'The root cause is the deploy.', citations: ['E1'] },
      { text: 'The runbook suggests a rollback.', citations: [] },
      { text: 'A rollback with `kubectl rollout undo deployment/checkout-api` is possible.', citations: ['E2'] },
    ]
    const r = guardAnswer({ sentences, pack })
    expect(r.sentences).toEqual([{ ...sentences[0], citations: ['E1'] }, sentences[4]])
    expect(r.interventions).toEqual([
      { type: 'citation_removed', where: 'sentences[0]', detail: 'unknown evidence ref "E7"' },
      { type: 'unsupported_statement_removed', where: 'sentences[1]', detail: 'not in the evidence: 870 ms' },
      { type: 'certainty_language_removed', where: 'sentences[2]', detail: 'states a hypothesis as certain: "the root cause is"' },
      { type: 'unsupported_statement_removed', where: 'sentences[3]', detail: 'no valid citation' },
    ])
  })

  it('is idempotent', () => {
    const first = guardAnswer({ sentences: [{ text: 'Possibly the deploy v2026.11.3.', citations: ['E1', 'E5'] }], pack })
    expect(guardAnswer({ sentences: first.sentences, pack })).toEqual({ sentences: first.sentences, interventions: [], injection: [] })
  })
})
