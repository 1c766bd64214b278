import { z } from 'zod'
import { resolveService } from '../alerts/classify/service.js'
import { newId } from '../alerts/receive.js'
import { queryTerms } from '../knowledge/search.js'
import { DETERMINISTIC_MODEL, type AssistantDeps } from './assess.js'
import { assemblePack, renderEvidence, retrievePassages, telemetryStatus } from './evidence.js'
import { detectInjection, guardAnswer } from './guard/index.js'
import { splitPrompt } from './llm.js'
import { loadPrompt, renderPrompt } from './prompts.js'
import { checkScope } from './scope.js'
import { insertAssessment, type Assessment } from './store.js'
import type { EvidenceItem, EvidencePack, Intervention, Provenance, RefusalReason } from './types.js'

// Chat answers: cited passages phrased uncertainty-first, or a refusal with a reason code. Stateless: every
// question is answered from the knowledge base alone, with no memory of earlier questions.

export const AskInput = z.object({
  question: z.string().trim().min(3).max(2000),
  service: z.string().min(1).max(200).optional(),
})
export type AskInput = z.infer<typeof AskInput>

export interface Answer {
  id: string
  refused: RefusalReason | null
  /** Human-readable: the answer, or why it was refused and what is missing. */
  text: string
  sentences: Array<{ text: string; citations: string[] }>
  citations: Array<{ ref: string; sourceUri: string | null; title: string; headingPath: string[]; chunkId: number | null; contentHash: string }>
  injectionFlagged: boolean
  interventions: Intervention[]
  provenance: Provenance
}

const LlmAnswer = z.object({ sentences: z.array(z.object({ text: z.string(), citations: z.array(z.string()) })) })
/** Share of the question's content terms a passage must contain to count as relevant evidence. */
const MIN_TERM_COVERAGE = 0.34
const INTERROGATIVES = new Set(['what', 'which', 'how', 'why', 'when', 'where', 'who', 'should', 'would', 'could', 'does', 'did', 'can', 'the', 'and', 'for', 'our', 'we', 'is', 'are', 'do', 'to', 'of', 'in', 'on', 'a', 'an', 'it', 'this', 'that', 'with', 'right', 'now', 'exact', 'i'])

export async function ask(deps: AssistantDeps, raw: AskInput): Promise<Answer> {
  const input = AskInput.parse(raw)
  const t0 = performance.now()
  const started = deps.clock?.() ?? new Date()
  const prompt = loadPrompt('ask')
  const provenance: Provenance = { mode: 'deterministic', model: DETERMINISTIC_MODEL, promptId: prompt.id, promptVersion: prompt.version, promptSha256: prompt.sha256, fallbackReason: null, latencyMs: 0, tokens: null }
  // An explicit service wins; otherwise a service named in the question ("checkout-api is returning 5xx")
  // focuses retrieval on its runbooks and telemetry, exactly as an alert label would.
  const service = input.service ? (deps.reference.catalog.resolveName(input.service) ?? null) : mentionedService(deps, input.question)
  const interventions: Intervention[] = []
  let pack: EvidencePack = { items: [], telemetry: null, catalogSlice: null, retrievalQuery: input.question }
  let refused: RefusalReason | null = null
  let text = ''
  let sentences: Answer['sentences'] = []

  const scope = checkScope(input.question)
  const questionInjection = detectInjection([{ where: 'question', text: input.question }])
  if (!scope.inScope) {
    refused = 'out_of_scope'
    text = `I can't do that: the request ${scope.why}. I can explain what the runbooks say about it, or you can propose an action for human approval.`
  } else {
    const evDeps = { db: deps.db, embedder: deps.embedder, catalog: deps.reference.catalog, efSearch: deps.settings?.efSearch }
    const hits = await retrievePassages(evDeps, input.question, service)
    const telemetry = await telemetryStatus(deps.db, service, started)
    pack = await assemblePack(evDeps, { question: input.question, service, hits, telemetry, retrievalQuery: input.question }, deps.settings?.evidenceChars)
    const terms = queryTerms(input.question).filter((t) => !INTERROGATIVES.has(t) && t.length > 2)
    const relevant = pack.items.filter((i) => i.kind === 'chunk' && coverage(i, terms) >= MIN_TERM_COVERAGE)
    if (pack.telemetry?.status === 'unsafe') {
      refused = 'data_unsafe'
      text = `Telemetry for ${pack.telemetry.service} is flagged unsafe (${pack.telemetry.reasons.join('; ') || 'data quality'}); I won't answer from it. Check the data pipeline first.`
    } else if (relevant.length === 0) {
      refused = 'low_confidence'
      text = `I found nothing in the knowledge base that answers this. Missing: a runbook, case study or document covering ${terms.slice(0, 6).join(', ') || 'this topic'}${service ? ` for ${service}` : ''}.`
    } else {
      sentences = deterministicSentences(relevant, terms)
      if (deps.llm) {
        const res = await deps.llm.structured(LlmAnswer, splitPrompt(renderPrompt(prompt, { question: input.question, evidence: renderEvidence(pack) })), 'warden_answer')
        provenance.tokens = res.tokens
        if (res.ok) {
          provenance.mode = 'llm'
          provenance.model = deps.llm.model
          sentences = res.value.sentences
        } else provenance.fallbackReason = `${res.reason}: ${res.detail}`.slice(0, 500)
      }
      const guarded = guardAnswer({ sentences, pack })
      interventions.push(...guarded.interventions)
      sentences = guarded.sentences
      if (sentences.length === 0) {
        refused = 'low_confidence'
        text = 'The passages I found do not support a grounded answer; see the cited sources directly.'
      } else {
        text = `I'm not certain; the closest passages suggest:\n${sentences.map((s) => `- ${s.text} [${s.citations.join(', ')}]`).join('\n')}`
      }
    }
  }
  const injection = [...questionInjection, ...detectInjection(pack.items.filter((i) => i.kind === 'chunk').map((i) => ({ where: `${i.ref} ${i.sourceUri}`, text: `${i.title}\n${i.text}` })))]
  for (const f of injection) interventions.push({ type: 'injection_flagged', where: f.where, detail: `${f.pattern}: ${f.excerpt}` })
  provenance.latencyMs = Math.round((performance.now() - t0) * 10) / 10
  // The answer guard scans passage metadata too; a flag from either scan marks the answer.
  const injectionFlagged = interventions.some((i) => i.type === 'injection_flagged')

  const id = newId('as')
  const record: Omit<Assessment, 'createdAt'> = {
    id, subject: 'question', alertId: null, question: input.question, outcome: refused ? 'refused' : 'assessed', refusalReason: refused, classification: null,
    draft: { summary: text, causes: [], steps: sentences, similarIncidents: [], actions: [] }, evidencePack: pack, interventions,
    injectionFlagged, provenance, confidence: null, startedAt: started.toISOString(),
  }
  await deps.db.transaction((tx) => insertAssessment(tx, record, deps.clock?.() ?? new Date()))
  const cited = new Set(sentences.flatMap((s) => s.citations))
  return {
    id, refused, text, sentences,
    citations: pack.items.filter((i) => cited.has(i.ref)).map((i) => ({ ref: i.ref, sourceUri: i.sourceUri, title: i.title, headingPath: i.headingPath, chunkId: i.chunkId, contentHash: i.contentHash })),
    injectionFlagged, interventions, provenance,
  }
}

function mentionedService(deps: AssistantDeps, question: string): string | null {
  const probe = { source: 'generic' as const, fingerprint: '', status: 'firing' as const, name: '', labels: {}, annotations: {}, summary: question, description: '', startsAt: null, links: [], severity: null }
  return resolveService(probe, deps.reference.catalog).service
}

function coverage(item: EvidenceItem, terms: string[]): number {
  if (terms.length === 0) return 0
  const text = `${item.title} ${item.headingPath.join(' ')} ${item.text}`.toLowerCase()
  return terms.filter((t) => text.includes(t.slice(0, Math.max(4, t.length - 2)))).length / terms.length
}

/** The best-matching lines of the best passages, quoted verbatim with their citation. */
function deterministicSentences(items: EvidenceItem[], terms: string[]): Answer['sentences'] {
  const scored: Array<{ text: string; ref: string; score: number }> = []
  for (const [rank, it] of items.slice(0, 4).entries()) {
    for (const line of it.text.split(/\n+|(?<=[.!?])\s+(?=[A-Z])/)) {
      const l = line.replace(/^(\d+[.)]|[-*#>]+)\s*/, '').trim()
      if (l.length < 25 || l.length > 400) continue
      const lower = l.toLowerCase()
      const hits = terms.filter((t) => lower.includes(t.slice(0, Math.max(4, t.length - 2)))).length
      if (hits) scored.push({ text: l, ref: it.ref, score: hits - rank * 0.5 })
    }
  }
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, 3)
    .map((s) => ({ text: s.text, citations: [s.ref] }))
}
