import { describe, expect, it } from 'vitest'
import { resolveCitations } from '../../../src/assistant/citations.js'
import type { EvidenceItem } from '../../../src/assistant/types.js'

const item = (ref: string, over: Partial<EvidenceItem> = {}): EvidenceItem => ({
  ref, kind: 'chunk', trusted: false, title: `title ${ref}`, text: `passage of ${ref}`, contentHash: `h-${ref}`,
  chunkId: Number(ref.slice(1)), sourceUri: `file:///kb/${ref}.md`, sourceKind: 'runbook', headingPath: ['Doc', ref], meta: {}, ...over,
})

describe('resolveCitations', () => {
  const pack = { items: [item('E1'), item('E2', { kind: 'telemetry', chunkId: null, sourceUri: null }), item('E3')] }

  it('joins each cited ref to its source, heading path and passage, in first-cited order, with where it is cited', () => {
    const draft = {
      causes: [{ text: 'a', citations: ['E3', 'E1'] }],
      steps: [{ text: 'b', citations: ['E1'] }, { text: 'c', citations: ['E3'] }],
      similarIncidents: [],
      actions: [{ actionId: 'x', params: {}, rationale: 'r', citations: ['E2'] }],
    }
    const got = resolveCitations(draft, pack)
    expect(got.map((c) => c.ref)).toEqual(['E3', 'E1', 'E2'])
    expect(got[0]).toEqual({
      ref: 'E3', kind: 'chunk', title: 'title E3', sourceUri: 'file:///kb/E3.md', headingPath: ['Doc', 'E3'],
      passage: 'passage of E3', chunkId: 3, contentHash: 'h-E3', citedBy: ['causes[0]', 'steps[1]'],
    })
    expect(got[1]!.citedBy).toEqual(['causes[0]', 'steps[0]'])
    expect(got[2]).toMatchObject({ kind: 'telemetry', sourceUri: null, citedBy: ['actions[0]'] })
  })

  it('leaves out refs that are not in the pack and returns nothing for an uncited draft', () => {
    const draft = { causes: [{ text: 'a', citations: ['E9'] }], steps: [], similarIncidents: [], actions: [] }
    expect(resolveCitations(draft, pack)).toEqual([])
  })
})
