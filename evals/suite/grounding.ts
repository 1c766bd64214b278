import { runIngest } from '../../ingest/pipeline.js'
import { receiveAlerts } from '../../src/alerts/receive.js'
import { ask } from '../../src/assistant/ask.js'
import { assessAlert, type AssistantDeps } from '../../src/assistant/assess.js'
import { certaintyPhrases, packEvidence, unsupportedFacts } from '../../src/assistant/guard/index.js'
import type { LlmClient } from '../../src/assistant/llm.js'
import { getAssessment, type Assessment } from '../../src/assistant/store.js'
import type { Draft, EvidencePack, Intervention, Provenance } from '../../src/assistant/types.js'
import { openDatabase } from '../../src/db/index.js'
import type { Database } from '../../src/db/types.js'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { loadReference } from '../../src/policy/reference.js'
import { loadClassifyCases, type ClassifyCase } from '../classify.js'
import { loadCases, type RetrievalCase } from '../retrieval.js'
import type { CaseSet } from './config.js'
import { round, type FailedCase, type Metric, type SectionResult } from './types.js'

// Grounding: every draft and answer the assistant produces during the run, checked after the fact
// against the evidence pack it was built from (the pack stored with the assessment):
//   - citation resolution: share of citations naming an item of that pack (goal 1.0);
//   - unsupported numbers: numbers and identifiers stated in a draft or answer that the pack does not
//     contain (the guard's own unsupportedFacts over the pack's evidence; goal 0);
//   - certainty phrases in causes and answers ("the root cause is", "definitely"; goal 0).
// Drafts: every labelled alert of the classification sets received (receiveAlerts) and assessed
// (assessAlert) on a database holding the matching corpus. Answers: every retrieval question through ask.
// With an LLM client the same cases run a second time through the LLM path on the same database.

export type PassName = 'deterministic' | 'llm'

export interface OutputCheck {
  set: string
  pass: PassName
  kind: 'draft' | 'answer'
  caseId: string
  assessmentId: string | null
  citations: number
  unresolved: Array<{ where: string; ref: string }>
  unsupported: Array<{ where: string; facts: string[] }>
  /** Certainty phrases in causes (drafts) or in the answer text shown to the user. */
  certainty: Array<{ where: string; phrases: string[] }>
  /** Certainty phrases elsewhere in a draft (summary, steps, action rationales): reported, not gated. */
  certaintyElsewhere: number
  statements: number
  interventions: Intervention[]
  provenance: Provenance | null
  outcome: string
  refused: string | null
  injectionFlagged: boolean
  /** Drafts: the end-to-end classification against the label. Answers: whether a relevant source is cited. */
  correct?: { service: boolean; team: boolean; failureClass: boolean }
  citesRelevant?: boolean
  error?: string
}

export interface GroundingDetails {
  outputs: OutputCheck[]
  ingest: Record<string, { chunks: number; ms: number }>
}

/** Called once per case before the assistant runs it: lets a scripted fake LLM pick its reply. */
export type CaseHook = (pass: PassName, kind: 'draft' | 'answer', caseId: string) => void

export interface GroundingOptions {
  sets: CaseSet[]
  embedder: EmbeddingProvider
  settings?: AssistantDeps['settings']
  /** When given, every case also runs through the LLM path (a second pass on the same database). */
  llm?: LlmClient | null
  onCase?: CaseHook
  /** Skip the deterministic pass (only meaningful with `llm`). */
  llmOnly?: boolean
}

const textsOfDraft = (d: Draft): Array<{ where: string; text: string }> => [
  { where: 'summary', text: d.summary },
  ...d.causes.map((c, i) => ({ where: `causes[${i}]`, text: c.text })),
  ...d.steps.map((s, i) => ({ where: `steps[${i}]`, text: s.text })),
  ...d.similarIncidents.map((s, i) => ({ where: `similarIncidents[${i}]`, text: `${s.incidentId}\n${s.title}\n${s.mitigation}` })),
  ...d.actions.map((a, i) => ({ where: `actions[${i}].rationale`, text: a.rationale })),
]

const citedOfDraft = (d: Draft): Array<{ where: string; refs: string[] }> => [
  ...d.causes.map((c, i) => ({ where: `causes[${i}]`, refs: c.citations })),
  ...d.steps.map((s, i) => ({ where: `steps[${i}]`, refs: s.citations })),
  ...d.similarIncidents.map((s, i) => ({ where: `similarIncidents[${i}]`, refs: s.citations })),
  ...d.actions.map((a, i) => ({ where: `actions[${i}]`, refs: a.citations })),
]

function checkCitations(cited: Array<{ where: string; refs: string[] }>, pack: EvidencePack) {
  const refs = new Set(pack.items.map((i) => i.ref))
  const all = cited.flatMap((c) => c.refs.map((ref) => ({ where: c.where, ref })))
  return { citations: all.length, unresolved: all.filter((c) => !refs.has(c.ref)) }
}

function checkFacts(texts: Array<{ where: string; text: string }>, pack: EvidencePack) {
  const ev = packEvidence(pack).facts
  return texts.flatMap(({ where, text }) => {
    const facts = unsupportedFacts(text, ev)
    return facts.length ? [{ where, facts }] : []
  })
}

function phrasesIn(texts: Array<{ where: string; text: string }>) {
  return texts.flatMap(({ where, text }) => {
    const phrases = certaintyPhrases(text)
    return phrases.length ? [{ where, phrases }] : []
  })
}

export function checkDraft(a: Assessment, base: Pick<OutputCheck, 'set' | 'pass' | 'caseId'>): OutputCheck {
  const d = a.draft
  const { citations, unresolved } = checkCitations(citedOfDraft(d), a.evidencePack)
  const causes = d.causes.map((c, i) => ({ where: `causes[${i}]`, text: c.text }))
  const elsewhere = textsOfDraft(d).filter((t) => !t.where.startsWith('causes['))
  return {
    ...base,
    kind: 'draft',
    assessmentId: a.id,
    citations,
    unresolved,
    unsupported: checkFacts(textsOfDraft(d), a.evidencePack),
    certainty: phrasesIn(causes),
    certaintyElsewhere: phrasesIn(elsewhere).reduce((n, x) => n + x.phrases.length, 0),
    statements: d.causes.length + d.steps.length + d.similarIncidents.length + d.actions.length,
    interventions: a.interventions,
    provenance: a.provenance,
    outcome: a.outcome,
    refused: a.refusalReason,
    injectionFlagged: a.injectionFlagged,
  }
}

export function checkAnswer(
  answer: { sentences: Array<{ text: string; citations: string[] }>; text: string },
  a: Assessment,
  base: Pick<OutputCheck, 'set' | 'pass' | 'caseId'>,
): OutputCheck {
  const sentences = answer.sentences.map((s, i) => ({ where: `sentences[${i}]`, text: s.text }))
  const { citations, unresolved } = checkCitations(answer.sentences.map((s, i) => ({ where: `sentences[${i}]`, refs: s.citations })), a.evidencePack)
  return {
    ...base,
    kind: 'answer',
    assessmentId: a.id,
    citations,
    unresolved,
    unsupported: checkFacts(sentences, a.evidencePack),
    certainty: phrasesIn([{ where: 'answer', text: answer.text }]),
    certaintyElsewhere: 0,
    statements: answer.sentences.length,
    interventions: a.interventions,
    provenance: a.provenance,
    outcome: a.outcome,
    refused: a.refusalReason,
    injectionFlagged: a.injectionFlagged,
  }
}

async function assessCase(deps: AssistantDeps, c: ClassifyCase, base: Pick<OutputCheck, 'set' | 'pass' | 'caseId'>): Promise<OutputCheck[]> {
  const r = await receiveAlerts({ db: deps.db }, { format: c.format, payload: c.payload })
  if (!r.ok) return [errorCheck(base, 'draft', `payload rejected: ${r.error.message}`)]
  const out: OutputCheck[] = []
  for (const [i, received] of r.alerts.entries()) {
    const a = await assessAlert(deps, received.alertId)
    const check = checkDraft(a, { ...base, caseId: r.alerts.length > 1 ? `${c.id}#${i + 1}` : c.id })
    const k = a.classification
    if (k) {
      const e = c.expected
      check.correct = { service: k.service === e.service, team: k.team === e.team, failureClass: k.failureClass === e.failure_class || e.acceptable_classes.includes(k.failureClass) }
    }
    out.push(check)
  }
  return out
}

async function askCase(deps: AssistantDeps, c: RetrievalCase, base: Pick<OutputCheck, 'set' | 'pass' | 'caseId'>): Promise<OutputCheck> {
  const answer = await ask(deps, { question: c.question })
  const stored = await getAssessment(deps.db, answer.id)
  if (!stored) return errorCheck(base, 'answer', `answer ${answer.id} was not stored`)
  const check = checkAnswer(answer, stored, base)
  const relevant = new Set(c.relevant)
  check.citesRelevant = answer.citations.some((x) => x.sourceUri !== null && relevant.has(x.sourceUri))
  return check
}

function errorCheck(base: Pick<OutputCheck, 'set' | 'pass' | 'caseId'>, kind: OutputCheck['kind'], error: string): OutputCheck {
  return { ...base, kind, assessmentId: null, citations: 0, unresolved: [], unsupported: [], certainty: [], certaintyElsewhere: 0, statements: 0, interventions: [], provenance: null, outcome: 'error', refused: null, injectionFlagged: false, error }
}

async function guarded<T>(fn: () => Promise<T>, onError: (e: Error) => T): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    return onError(e as Error)
  }
}

export async function runGroundingPasses(opts: GroundingOptions): Promise<{ outputs: OutputCheck[]; timingsMs: Record<string, number>; ingest: GroundingDetails['ingest'] }> {
  const outputs: OutputCheck[] = []
  const timingsMs: Record<string, number> = {}
  const ingest: GroundingDetails['ingest'] = {}
  const passes: PassName[] = [...(opts.llmOnly ? [] : ['deterministic' as const]), ...(opts.llm ? ['llm' as const] : [])]
  for (const set of opts.sets) {
    const t0 = performance.now()
    const db: Database = await openDatabase({ kind: 'pglite', dataDir: null })
    try {
      await runIngest({ db, embedder: opts.embedder }, { inputs: set.corpus, maxBytes: 8 * 1024 * 1024 })
      const chunks = (await db.query<{ n: number }>('select count(*)::int as n from chunks')).rows[0]!.n
      ingest[set.name] = { chunks, ms: Math.round(performance.now() - t0) }
      timingsMs[`${set.name}.ingest`] = ingest[set.name]!.ms
      const reference = loadReference(set.reference)
      const alerts = loadClassifyCases(set.classifyCases)
      const questions = loadCases(set.retrievalCases)
      for (const [p, pass] of passes.entries()) {
        const tp = performance.now()
        // Assessments are one per alert; the second pass starts from the same alerts with none stored.
        if (p > 0) await db.query('delete from assessments')
        const deps: AssistantDeps = { db, embedder: opts.embedder, reference, llm: pass === 'llm' ? (opts.llm ?? null) : null, ...(opts.settings && { settings: opts.settings }) }
        for (const c of alerts) {
          const base = { set: set.name, pass, caseId: c.id }
          opts.onCase?.(pass, 'draft', c.id)
          outputs.push(...(await guarded(() => assessCase(deps, c, base), (e) => [errorCheck(base, 'draft', e.message)])))
        }
        for (const c of questions) {
          const base = { set: set.name, pass, caseId: c.id }
          opts.onCase?.(pass, 'answer', c.id)
          outputs.push(await guarded(() => askCase(deps, c, base), (e) => errorCheck(base, 'answer', e.message)))
        }
        timingsMs[`${set.name}.${pass}`] = Math.round(performance.now() - tp)
      }
    } finally {
      await db.close()
    }
  }
  return { outputs, timingsMs, ingest }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const share = (num: number, den: number) => (den ? round(num / den) : 1)

/** The three grounding figures (overall) plus per-set context; `prefix` is `` or `llm.`. */
export function groundingMetrics(outputs: OutputCheck[], prefix = ''): Metric[] {
  const p = `${prefix}grounding`
  const ok = outputs.filter((o) => !o.error)
  const citations = sum(ok.map((o) => o.citations))
  const unresolved = sum(ok.map((o) => o.unresolved.length))
  const metrics: Metric[] = [
    { id: `${p}.citation_resolution`, section: 'grounding', kind: 'ratio', value: share(citations - unresolved, citations), description: `share of the ${citations} citations in drafts and answers that name an item of their evidence pack (goal 1.0)` },
    { id: `${p}.unsupported_numbers`, section: 'grounding', kind: 'count', value: sum(ok.map((o) => o.unsupported.reduce((n, u) => n + u.facts.length, 0))), description: 'numbers/identifiers stated in drafts and answers that their evidence pack does not contain (goal 0)' },
    { id: `${p}.certainty_phrases`, section: 'grounding', kind: 'count', value: sum(ok.map((o) => o.certainty.reduce((n, c) => n + c.phrases.length, 0))), description: 'certainty phrases ("the root cause is", "definitely"…) in causes and answers (goal 0)' },
    { id: `${p}.errors`, section: 'grounding', kind: 'count', value: outputs.length - ok.length, description: 'cases that threw or whose payload was rejected instead of producing a draft or answer (goal 0)' },
    { id: `${p}.certainty_phrases_elsewhere`, section: 'grounding', kind: 'count', value: sum(ok.map((o) => o.certaintyElsewhere)), description: 'certainty phrases in draft summaries, steps and action rationales (context; the guard drops those sentences)' },
  ]
  for (const set of [...new Set(outputs.map((o) => o.set))]) {
    const drafts = ok.filter((o) => o.set === set && o.kind === 'draft')
    const answers = ok.filter((o) => o.set === set && o.kind === 'answer')
    const answered = answers.filter((o) => !o.refused)
    const what = set === 'external' ? 'shared alerts/questions (external feed)' : 'demo alerts/questions (ingest/corpus)'
    metrics.push(
      { id: `${p}.${set}.drafts_with_statements`, section: 'grounding', kind: 'ratio', value: share(drafts.filter((o) => o.statements > 0).length, drafts.length), description: `${what}: share of the ${drafts.length} drafts with at least one cited cause, step, incident or action` },
      { id: `${p}.${set}.e2e_class_accuracy`, section: 'grounding', kind: 'ratio', value: share(drafts.filter((o) => o.correct?.failureClass).length, drafts.length), description: `${what}: failure class of the stored assessment vs the label (rules + neighbour vote + telemetry)` },
      { id: `${p}.${set}.answers_refused`, section: 'grounding', kind: 'ratio', value: share(answers.length - answered.length, answers.length), description: `${what}: share of the ${answers.length} questions the assistant declined (low confidence, out of scope, unsafe data)` },
      { id: `${p}.${set}.answers_citing_relevant`, section: 'grounding', kind: 'ratio', value: share(answers.filter((o) => o.citesRelevant).length, answers.length), description: `${what}: share of questions whose answer cites a passage of a labelled relevant source` },
    )
  }
  return metrics
}

export function groundingFailures(outputs: OutputCheck[]): FailedCase[] {
  const out: FailedCase[] = []
  for (const o of outputs) {
    const id = `${o.caseId} (${o.kind}${o.pass === 'llm' ? ', llm' : ''})`
    if (o.error) {
      out.push({ section: 'grounding', set: o.set, id, expected: `a ${o.kind}`, got: o.error })
      continue
    }
    const problems: string[] = []
    if (o.unresolved.length) problems.push(`citations not in the pack: ${o.unresolved.map((u) => `${u.where}→${u.ref}`).join(', ')}`)
    if (o.unsupported.length) problems.push(`unsupported: ${o.unsupported.map((u) => `${u.where}: ${u.facts.join(', ')}`).join('; ')}`)
    if (o.certainty.length) problems.push(`certainty: ${o.certainty.map((c) => `${c.where}: "${c.phrases.join('", "')}"`).join('; ')}`)
    if (problems.length) out.push({ section: 'grounding', set: o.set, id, expected: 'every citation resolves, every number is in the evidence, no certainty phrase', got: problems.join(' | ') })
  }
  return out
}

export async function runGroundingSection(opts: GroundingOptions): Promise<SectionResult<GroundingDetails> & { llmOutputs: OutputCheck[] }> {
  const { outputs, timingsMs, ingest } = await runGroundingPasses(opts)
  const det = outputs.filter((o) => o.pass === 'deterministic')
  const llm = outputs.filter((o) => o.pass === 'llm')
  return {
    section: 'grounding',
    metrics: groundingMetrics(det),
    failures: groundingFailures(det),
    timingsMs,
    details: { outputs: det, ingest },
    notes: [],
    llmOutputs: llm,
  }
}
