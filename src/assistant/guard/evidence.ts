import type { EvidencePack } from '../types.js'
import { certaintyPhrases } from './certainty.js'
import { normaliseEvidence, unsupportedFacts, type NormalisedEvidence } from './facts.js'
import { clip } from './text.js'

// What a draft may rely on: the refs of the pack's items (citations) and everything those items say
// (facts). Built once per guard call. Checks here return a reason or null so the draft guard and the
// answer guard apply the same rules with the same wording.

export interface PackEvidence {
  readonly refs: ReadonlySet<string>
  readonly facts: NormalisedEvidence
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value) ?? ''
}

/**
 * Facts come from every item's title, text, heading path and meta values. The refs themselves are
 * included so a draft that writes "[E1]" inline is not flagged for naming its own citation; an inline
 * "[E9]" that is not in the pack still is.
 */
export function packEvidence(pack: EvidencePack): PackEvidence {
  const parts: string[] = []
  for (const item of pack.items) {
    parts.push(item.ref, item.title, item.text, ...item.headingPath, ...Object.values(item.meta).map(stringify))
  }
  return { refs: new Set(pack.items.map((i) => i.ref)), facts: normaliseEvidence(parts.join('\n')) }
}

/** Why the statement's facts are unsupported, or null. */
export function factProblem(text: string, ev: PackEvidence): string | null {
  const missing = unsupportedFacts(text, ev.facts)
  return missing.length === 0 ? null : `not in the evidence: ${missing.map((m) => clip(m, 60)).join(', ')}`
}

/** Why the statement is stated with unwarranted certainty, or null. */
export function certaintyProblem(text: string): string | null {
  const phrases = certaintyPhrases(text)
  return phrases.length === 0 ? null : `states a hypothesis as certain: ${phrases.map((p) => `"${p}"`).join(', ')}`
}

/** Splits citations into those naming a pack item and those that do not. */
export function partitionCitations(citations: readonly string[], ev: PackEvidence): { kept: string[]; unknown: string[] } {
  const kept: string[] = []
  const unknown: string[] = []
  for (const c of citations) (ev.refs.has(c) ? kept : unknown).push(c)
  return { kept, unknown }
}
