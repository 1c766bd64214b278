import type { EvidencePack, Intervention } from '../types.js'
import { certaintyProblem, factProblem, packEvidence, partitionCitations } from './evidence.js'
import { detectInjection, packMetadataTexts, type InjectionFinding } from './injection.js'
import { clip } from './text.js'

// Chat answers get the draft rules, sentence by sentence: each sentence must cite the pack, state only
// numbers and identifiers the pack contains, and frame causes as possibilities. A sentence that fails
// is removed whole (a chat sentence is one claim, there is nothing smaller to keep). Framing that
// carries no claim ("I could not find that in the evidence") is the caller's to add, in code, after
// guarding; the model's text never gets past here uncited.

export interface AnswerSentence {
  text: string
  citations: string[]
}

export function guardAnswer(input: { sentences: AnswerSentence[]; pack: EvidencePack }): {
  sentences: AnswerSentence[]
  interventions: Intervention[]
  /** Instructions found in the pack's ingested metadata (passage titles and text are the caller's to scan). */
  injection: InjectionFinding[]
} {
  const ev = packEvidence(input.pack)
  const interventions: Intervention[] = []
  const kept: AnswerSentence[] = []
  input.sentences.forEach((sentence, i) => {
    const where = `sentences[${i}]`
    const { kept: citations, unknown } = partitionCitations(sentence.citations, ev)
    for (const ref of unknown) interventions.push({ type: 'citation_removed', where, detail: `unknown evidence ref "${clip(ref, 40)}"` })
    const unsupported = citations.length === 0 ? 'no valid citation' : factProblem(sentence.text, ev)
    if (unsupported !== null) {
      interventions.push({ type: 'unsupported_statement_removed', where, detail: unsupported })
      return
    }
    const certain = certaintyProblem(sentence.text)
    if (certain !== null) {
      interventions.push({ type: 'certainty_language_removed', where, detail: certain })
      return
    }
    kept.push(unknown.length > 0 ? { ...sentence, citations } : sentence)
  })
  // An answer proposes nothing, so a finding only flags it; the reader must know the sources tried to instruct.
  const injection = detectInjection(packMetadataTexts(input.pack))
  for (const f of injection) interventions.push({ type: 'injection_flagged', where: f.where, detail: `${f.pattern}: "${clip(f.excerpt)}"` })
  return { sentences: kept, interventions, injection }
}
