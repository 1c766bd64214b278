import type { Draft, EvidencePack, Intervention, SuggestedAction } from '../types.js'
import { certaintyProblem, factProblem, packEvidence, partitionCitations, type PackEvidence } from './evidence.js'
import { detectInjection, mergeFindings, packMetadataTexts, type InjectionFinding } from './injection.js'
import { clip, joinSentences, splitSentences } from './text.js'

// The guard is where the assistant's output is bounded in code. Whatever produced the draft (the
// deterministic engine or an LLM), only what survives these rules reaches a human, and every removal is
// recorded so the UI and the audit log can say what was taken out and why. Rules run in a fixed order
// (a–g below); a statement removed by an earlier rule is not reported again by a later one.
//
// Idempotent by construction: every rule removes or narrows, never rewrites, so guarding a guarded draft
// changes nothing. Only the flags that describe the *inputs* (injection_flagged, data_unsafe_refusal,
// low_confidence) are reported again, because they are still true.

export type ActionCheck = { ok: true; params: Record<string, unknown> } | { ok: false; problems: string[] }

export interface GuardInput {
  draft: Draft
  pack: EvidencePack
  /** Validates an action against the policy (id known, params valid, service in scope); supplied by the caller. */
  validateAction: (a: SuggestedAction) => ActionCheck
  /** The actions the policy and classification allow here (ids + params), computed in code; anything else is removed. */
  allowedActions: Array<{ actionId: string; params: Record<string, unknown> }>
  injection: InjectionFinding[]
  confidence: number
  minConfidence: number
  telemetryUnsafe: boolean
}

export interface GuardResult {
  draft: Draft
  interventions: Intervention[]
  refused: null | 'data_unsafe' | 'low_confidence'
  /** The caller's findings plus the guard's own scan of the pack's ingested metadata: flag the output when non-empty. */
  injection: InjectionFinding[]
}

type Note = (type: Intervention['type'], where: string, detail: string) => void
interface At<T> { where: string; v: T }

const indexed = <T>(name: string, list: readonly T[]): Array<At<T>> => list.map((v, i) => ({ where: `${name}[${i}]`, v }))

/** Key order does not matter to the policy, so it must not matter to the comparison. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'undefined'
}
const actionKey = (actionId: string, params: Record<string, unknown>) => `${actionId} ${canonical(params)}`

/** a. Unknown refs go; a statement left with no valid citation goes with them. */
function cited<T extends { citations: string[] }>(list: Array<At<T>>, ev: PackEvidence, note: Note): Array<At<T>> {
  return list.flatMap(({ where, v }) => {
    const { kept, unknown } = partitionCitations(v.citations, ev)
    for (const ref of unknown) note('citation_removed', where, `unknown evidence ref "${clip(ref, 40)}"`)
    if (kept.length === 0) {
      note('unsupported_statement_removed', where, 'no valid citation')
      return []
    }
    return [{ where, v: unknown.length > 0 ? { ...v, citations: kept } : v }]
  })
}

/** Removes whole statements for which `problem` returns a reason. */
function keepIf<T>(list: Array<At<T>>, type: Intervention['type'], problem: (v: T) => string | null, note: Note): Array<At<T>> {
  return list.filter(({ where, v }) => {
    const p = problem(v)
    if (p) note(type, where, p)
    return p === null
  })
}

/** Removes only the offending sentences of a longer text; the text is untouched when nothing is removed. */
function dropSentences(text: string, where: string, type: Intervention['type'], problem: (s: string) => string | null, note: Note): string {
  const sentences = splitSentences(text)
  const kept = sentences.filter((s) => {
    const p = problem(s.text)
    if (p) note(type, where, `${p} (sentence removed: "${clip(s.text, 80)}")`)
    return p === null
  })
  return kept.length === sentences.length ? text : joinSentences(kept)
}

export function guardDraft(input: GuardInput): GuardResult {
  const { draft } = input
  const ev = packEvidence(input.pack)
  const interventions: Intervention[] = []
  const note: Note = (type, where, detail) => interventions.push({ type, where, detail })
  const facts = (text: string) => factProblem(text, ev)

  // a. citations
  let causes = cited(indexed('causes', draft.causes), ev, note)
  let steps = cited(indexed('steps', draft.steps), ev, note)
  let similar = cited(indexed('similarIncidents', draft.similarIncidents), ev, note)
  let actions = cited(indexed('actions', draft.actions), ev, note)

  // b. facts: every number and identifier must occur in the evidence
  causes = keepIf(causes, 'unsupported_statement_removed', (c) => facts(c.text), note)
  steps = keepIf(steps, 'unsupported_statement_removed', (s) => facts(s.text), note)
  // The incident id and title are checked too: a made-up incident is the same fabrication as a made-up number.
  similar = keepIf(similar, 'unsupported_statement_removed', (s) => facts(`${s.incidentId}\n${s.title}\n${s.mitigation}`), note)
  let summary = dropSentences(draft.summary, 'summary', 'unsupported_statement_removed', facts, note)

  // c. certainty: a cause is a hypothesis, so a certain one is removed whole; elsewhere only the sentence
  causes = keepIf(causes, 'certainty_language_removed', (c) => certaintyProblem(c.text), note)
  steps = steps.flatMap(({ where, v }) => {
    const text = dropSentences(v.text, where, 'certainty_language_removed', certaintyProblem, note)
    return text === '' ? [] : [{ where, v: text === v.text ? v : { ...v, text } }]
  })
  summary = dropSentences(summary, 'summary', 'certainty_language_removed', certaintyProblem, note)

  // d. actions: valid, allowed here (same id and canonical params), not repeated, soberly justified
  const allowed = new Set(input.allowedActions.map((a) => actionKey(a.actionId, a.params)))
  const seen = new Set<string>()
  const drop = (where: string, detail: string): [] => (note('action_removed', where, detail), [])
  actions = actions.flatMap(({ where, v }) => {
    const check = input.validateAction(v)
    if (!check.ok) return drop(where, check.problems.join('; ') || 'rejected by the policy')
    const key = actionKey(v.actionId, check.params)
    if (!allowed.has(key)) return drop(where, 'not among the actions the policy allows for this classification')
    if (seen.has(key)) return drop(where, 'duplicate of an earlier action')
    const rationale = certaintyProblem(v.rationale) ?? facts(v.rationale)
    if (rationale !== null) return drop(where, `rationale ${rationale}`)
    seen.add(key)
    return [{ where, v: { ...v, params: { ...check.params } } }]
  })

  // e. injection: the untrusted text tried to instruct; nothing it could have influenced is proposed.
  // The pack's ingested metadata is scanned here, whoever built the pack, so no caller can forget it.
  const injection = mergeFindings(input.injection, detectInjection(packMetadataTexts(input.pack)))
  for (const f of injection) note('injection_flagged', f.where, `${f.pattern}: "${clip(f.excerpt)}"`)
  if (injection.length > 0 && actions.length > 0) {
    note('actions_withheld', 'actions', 'untrusted text contained instructions; actions need a human to propose them')
    actions = []
  }

  // f. unsafe telemetry: no action is suggested on data known to be wrong
  let refused: GuardResult['refused'] = null
  if (input.telemetryUnsafe) {
    note('data_unsafe_refusal', 'telemetry', 'telemetry data quality is unsafe; no actions are suggested on it')
    actions = []
    refused = 'data_unsafe'
  }

  // g. low confidence: cited steps still help a human; actions do not. NaN counts as low (fail closed).
  if (!(input.confidence >= input.minConfidence)) {
    note('low_confidence', 'confidence', `confidence ${input.confidence} is below ${input.minConfidence}; actions are left to a human`)
    actions = []
    if (refused === null && causes.length === 0 && steps.length === 0) refused = 'low_confidence'
  }

  const out: Draft = {
    summary,
    causes: causes.map((c) => c.v),
    steps: steps.map((s) => s.v),
    similarIncidents: similar.map((s) => s.v),
    actions: actions.map((a) => a.v),
  }
  return { draft: out, interventions, refused, injection }
}
