import type { LlmClient, LlmSettings } from '../../src/assistant/llm.js'
import { startFakeOpenAI, type FakeOpenAI, type Reply } from '../../test/helpers/fake-openai.js'
import type { OutputCheck } from './grounding.js'
import { round, type Metric } from './types.js'

// The LLM path of the suite: an instrumented client (every call's outcome, latency and tokens), the
// comparison with the deterministic pass, and — for CI — a scripted fake OpenAI-compatible server so the
// wiring is proven without a key or the network. The fake proves plumbing, not quality.

export interface LlmCall {
  schema: string
  ok: boolean
  reason: string | null
  latencyMs: number
  tokens: { prompt: number; completion: number } | null
}

/** Wraps a client so every call is recorded; `before` runs ahead of each call (the fake uses it to script a reply). */
export function instrument(client: LlmClient, before?: (schema: string, index: number) => void): { client: LlmClient; calls: LlmCall[] } {
  const calls: LlmCall[] = []
  return {
    calls,
    client: {
      model: client.model,
      async structured(schema, prompt, name) {
        before?.(name, calls.length)
        const res = await client.structured(schema, prompt, name)
        calls.push({ schema: name, ok: res.ok, reason: res.ok ? null : res.reason, latencyMs: round(res.latencyMs, 1), tokens: res.tokens })
        return res
      },
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Scripted fake: replies rotate through a well-behaved draft, an adversarial one the guard must cut down
// (certainty, invented numbers, unknown citations, an action outside the policy), and three failures the
// client must turn into recorded fallbacks (HTTP 500, malformed JSON, a schema violation).

const goodDraft = {
  summary: 'Possibly related to the alert described in E1; the cited passages are leads, not conclusions.',
  causes: [{ text: 'Possibly consistent with the symptoms described in the alert.', citations: ['E1'] }],
  steps: [{ text: 'Review the alert details and the cited passages before acting.', citations: ['E1'] }],
  similarIncidents: [],
  actions: [],
}
const adversarialDraft = {
  summary: 'The root cause is definitely the primary database. Latency reached 870 ms at p99.',
  causes: [
    { text: 'The root cause is the primary database.', citations: ['E1'] },
    { text: 'Possibly saturation, with p99 latency at 870 ms.', citations: ['E1'] },
    { text: 'Possibly related to the alert.', citations: ['E1', 'E99'] },
  ],
  steps: [{ text: 'Check the passage about the incident.', citations: ['E42'] }],
  similarIncidents: [{ incidentId: 'INC-1999-0001', title: 'Invented incident', mitigation: 'Restarted everything', citations: ['E1'] }],
  actions: [{ actionId: 'failover_database', params: '{"service":"made-up-db"}', rationale: 'Definitely needed right now.', citations: ['E1'] }],
}
const goodAnswer = { sentences: [{ text: 'The closest passage may be relevant; check it before acting.', citations: ['E1'] }] }
const adversarialAnswer = {
  sentences: [
    { text: 'The root cause is definitely DNS.', citations: ['E1'] },
    { text: 'Latency was 870 ms at p99 during the incident.', citations: ['E1'] },
    { text: 'See the passage for details.', citations: ['E77'] },
    { text: 'The closest passage may be relevant.', citations: ['E1'] },
  ],
}

export const FAKE_REPLY_KINDS = ['good', 'adversarial', 'http_error', 'malformed', 'schema_violation'] as const

export function scriptedReply(schema: string, index: number): Reply {
  const kind = FAKE_REPLY_KINDS[index % FAKE_REPLY_KINDS.length]!
  const draft = schema !== 'warden_answer'
  switch (kind) {
    case 'good':
      return { kind: 'json', value: draft ? goodDraft : goodAnswer }
    case 'adversarial':
      return { kind: 'json', value: draft ? adversarialDraft : adversarialAnswer }
    case 'http_error':
      return { kind: 'http_error', status: 500 }
    case 'malformed':
      return { kind: 'raw', content: '{"summary": "unterminated' }
    case 'schema_violation':
      return { kind: 'json', value: draft ? { summary: 42, causes: 'none' } : { sentences: 'none' } }
  }
}

export interface ScriptedFake {
  settings: LlmSettings
  fake: FakeOpenAI
  before: (schema: string, index: number) => void
  close(): Promise<void>
}

export async function startScriptedFake(): Promise<ScriptedFake> {
  const fake = await startFakeOpenAI()
  return {
    fake,
    settings: { apiKey: 'sk-fake-eval', baseURL: fake.baseURL, model: 'fake-scripted', method: 'jsonSchema', timeoutMs: 5000 },
    before: (schema, index) => fake.script(scriptedReply(schema, index)),
    close: () => fake.close(),
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparison

export interface Prices {
  input: number
  output: number
  source: string
}

export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return s[i]!
}

const countBy = <T>(xs: T[], key: (x: T) => string) => xs.reduce<Record<string, number>>((m, x) => ((m[key(x)] = (m[key(x)] ?? 0) + 1), m), {})

export interface PassStats {
  outputs: number
  llmUsed: number
  fallbacks: number
  fallbackReasons: Record<string, number>
  fallbackExamples: Record<string, string>
  interventions: Record<string, number>
  latencyMs: { p50: number | null; p95: number | null }
}

export function passStats(outputs: OutputCheck[]): PassStats {
  const ok = outputs.filter((o) => o.provenance)
  const fb = ok.filter((o) => o.provenance!.fallbackReason)
  const reason = (o: OutputCheck) => o.provenance!.fallbackReason!.split(':')[0]!.trim()
  const examples: Record<string, string> = {}
  for (const o of fb) examples[reason(o)] ??= `${o.set}/${o.caseId}: ${o.provenance!.fallbackReason!.replace(/\s+/g, ' ').slice(0, 160)}`
  const lat = ok.map((o) => o.provenance!.latencyMs)
  return {
    outputs: outputs.length,
    llmUsed: ok.filter((o) => o.provenance!.mode === 'llm').length,
    fallbacks: fb.length,
    fallbackReasons: countBy(fb, reason),
    fallbackExamples: examples,
    interventions: countBy(ok.flatMap((o) => o.interventions), (i) => i.type),
    latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95) },
  }
}

export interface LlmComparison {
  model: string
  endpoint: string
  fake: boolean
  calls: number
  callsOk: number
  callLatencyMs: { p50: number | null; p95: number | null }
  tokens: {
    prompt: number
    completion: number
    casesWithTokens: number
    promptPerCase: number
    completionPerCase: number
  }
  /** Spread over the cases that called the model (the evidence budget bounds the prompt). */
  tokensPerCase: { promptP50: number | null; promptMax: number | null; completionP50: number | null; completionMax: number | null }
  /** Every case that called the model: its tokens and estimated cost (report.json; the summary shows the spread). */
  perCase: Array<{ set: string; kind: OutputCheck['kind']; caseId: string; prompt: number; completion: number; costUsd: number }>
  cost: { prices: Prices; totalUsd: number; perCaseUsd: number }
  deterministic: PassStats
  llm: PassStats
  deltas: Array<{ id: string; kind: Metric['kind']; deterministic: number | boolean; llm: number | boolean; delta: number | null; description: string }>
  /** Sections with no LLM path, and why their figures are deterministic only. */
  notCompared: string[]
}

export function compareLlm(opts: {
  model: string
  endpoint: string
  fake: boolean
  calls: LlmCall[]
  det: OutputCheck[]
  llm: OutputCheck[]
  detMetrics: Metric[]
  llmMetrics: Metric[]
  prices: Prices
}): LlmComparison {
  const withTokens = opts.llm.filter((o) => o.provenance?.tokens)
  const prompt = withTokens.reduce((n, o) => n + o.provenance!.tokens!.prompt, 0)
  const completion = withTokens.reduce((n, o) => n + o.provenance!.tokens!.completion, 0)
  const usd = (p: number, c: number) => (p * opts.prices.input + c * opts.prices.output) / 1e6
  const totalUsd = usd(prompt, completion)
  const promptEach = withTokens.map((o) => o.provenance!.tokens!.prompt)
  const completionEach = withTokens.map((o) => o.provenance!.tokens!.completion)
  // Per case that actually called the model (a refused question never reaches it).
  const cases = withTokens.length || 1
  const llmById = new Map(opts.llmMetrics.map((m) => [m.id.replace(/^llm\./, ''), m]))
  return {
    model: opts.model,
    endpoint: opts.endpoint,
    fake: opts.fake,
    calls: opts.calls.length,
    callsOk: opts.calls.filter((c) => c.ok).length,
    callLatencyMs: { p50: percentile(opts.calls.map((c) => c.latencyMs), 50), p95: percentile(opts.calls.map((c) => c.latencyMs), 95) },
    tokens: { prompt, completion, casesWithTokens: withTokens.length, promptPerCase: round(prompt / cases, 1), completionPerCase: round(completion / cases, 1) },
    tokensPerCase: {
      promptP50: percentile(promptEach, 50),
      promptMax: promptEach.length ? Math.max(...promptEach) : null,
      completionP50: percentile(completionEach, 50),
      completionMax: completionEach.length ? Math.max(...completionEach) : null,
    },
    perCase: withTokens.map((o) => {
      const t = o.provenance!.tokens!
      return { set: o.set, kind: o.kind, caseId: o.caseId, prompt: t.prompt, completion: t.completion, costUsd: round(usd(t.prompt, t.completion), 8) }
    }),
    cost: { prices: opts.prices, totalUsd: round(totalUsd, 6), perCaseUsd: round(totalUsd / cases, 8) },
    deterministic: passStats(opts.det),
    llm: passStats(opts.llm),
    deltas: opts.detMetrics.flatMap((d) => {
      const l = llmById.get(d.id)
      if (!l) return []
      const delta = typeof d.value === 'number' && typeof l.value === 'number' ? round(l.value - d.value) : null
      return [{ id: d.id, kind: d.kind, deterministic: d.value, llm: l.value, delta, description: d.description }]
    }),
    notCompared: [
      'retrieval: no LLM on the retrieval path (search is the same code in both modes)',
      'classify: classification is deterministic in both modes (the model only drafts from the evidence pack)',
      'safety: evals/safety.ts builds its assistant with llm: null, so safety cases run deterministically only',
    ],
  }
}

