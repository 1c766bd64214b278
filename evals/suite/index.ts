import { execFileSync } from 'node:child_process'
import type { SignatureRule } from '../../src/alerts/classify/failure-class.js'
import type { AssistantDeps } from '../../src/assistant/assess.js'
import type { LlmClient } from '../../src/assistant/llm.js'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { runClassifySection } from './classify.js'
import { caseSets, missingInputs, REPO_ROOT, type CaseSet, type Thresholds } from './config.js'
import { runGate, type GateResult } from './gate.js'
import { groundingFailures, groundingMetrics, runGroundingSection } from './grounding.js'
import { compareLlm, instrument, type LlmComparison, type Prices } from './llm.js'
import { runRetrievalSection } from './retrieval.js'
import { runSafetySection } from './safety.js'
import { SECTIONS, type FailedCase, type Metric, type SectionName, type SectionResult } from './types.js'

// One run of the evaluation suite: the selected sections in a fixed order, one flat list of metrics,
// the gate against thresholds.yaml, and (LLM mode) the comparison of the LLM path with the deterministic one.

export interface SuiteLlm {
  client: LlmClient
  endpoint: string
  fake: boolean
  prices: Prices
  /** Runs before each model call (the scripted fake picks its reply here). */
  before?: (schema: string, index: number) => void
}

export interface SuiteOptions {
  mode: 'deterministic' | 'llm'
  only?: readonly SectionName[]
  embedder: EmbeddingProvider
  settings?: AssistantDeps['settings']
  thresholds: Thresholds
  /** Required in LLM mode. */
  llm?: SuiteLlm
  /** Deliberately degraded configuration, to show the gate can fail (tests, experiments). */
  degrade?: { k?: number; rules?: readonly SignatureRule[]; note?: string }
  sets?: CaseSet[]
  log?: (line: string) => void
}

export interface SuiteReport {
  version: 1
  generatedAt: string
  mode: 'deterministic' | 'llm'
  commit: { sha: string; dirty: boolean } | null
  thresholdsVersion: number
  embedder: string
  sections: SectionName[]
  durationMs: number
  timingsMs: Record<string, Record<string, number> & { total: number }>
  metrics: Metric[]
  gate: GateResult
  failures: FailedCase[]
  notes: string[]
  llm?: LlmComparison & { metrics: Metric[]; failures: FailedCase[] }
  details: Partial<Record<SectionName, unknown>>
}

function gitCommit(): SuiteReport['commit'] {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return { sha, dirty }
  } catch {
    return null
  }
}

export class SuiteInputError extends Error {}

export async function runSuite(opts: SuiteOptions): Promise<SuiteReport> {
  const t0 = performance.now()
  const log = opts.log ?? (() => {})
  const sections = SECTIONS.filter((s) => !opts.only || opts.only.includes(s))
  const sets = opts.sets ?? caseSets()
  const missing = missingInputs(sets)
  if (missing.length) throw new SuiteInputError(`evaluation inputs not found (is ../shared beside the checkout?):\n${missing.map((m) => `  - ${m}`).join('\n')}`)
  if (opts.mode === 'llm' && !opts.llm) throw new SuiteInputError('LLM mode needs an LLM client')

  const results: SectionResult[] = []
  const timingsMs: SuiteReport['timingsMs'] = {}
  const notes: string[] = []
  let llmReport: SuiteReport['llm']
  const timed = async <T extends SectionResult>(name: SectionName, fn: () => Promise<T> | T): Promise<T> => {
    log(`[eval] ${name}…`)
    const s = performance.now()
    const r = await fn()
    timingsMs[name] = { ...r.timingsMs, total: Math.round(performance.now() - s) }
    log(`[eval] ${name} done in ${(timingsMs[name]!.total / 1000).toFixed(1)}s`)
    results.push(r)
    return r
  }

  if (sections.includes('retrieval')) await timed('retrieval', () => runRetrievalSection({ sets, embedder: opts.embedder, ...(opts.degrade?.k !== undefined && { k: opts.degrade.k }) }))
  if (sections.includes('classify')) await timed('classify', () => runClassifySection({ sets, ...(opts.degrade?.rules && { rules: opts.degrade.rules, note: opts.degrade.note ?? 'signature rules overridden (degraded configuration)' }) }))
  if (sections.includes('safety')) await timed('safety', () => runSafetySection({ sets, embedder: opts.embedder }))
  if (sections.includes('grounding')) {
    const instrumented = opts.mode === 'llm' && opts.llm ? instrument(opts.llm.client, opts.llm.before) : null
    const g = await timed('grounding', () => runGroundingSection({ sets, embedder: opts.embedder, ...(opts.settings && { settings: opts.settings }), llm: instrumented?.client ?? null }))
    if (instrumented && opts.llm) {
      const llmMetrics = groundingMetrics(g.llmOutputs, 'llm.')
      llmReport = {
        ...compareLlm({
          model: opts.llm.client.model,
          endpoint: opts.llm.endpoint,
          fake: opts.llm.fake,
          calls: instrumented.calls,
          det: g.details.outputs,
          llm: g.llmOutputs,
          detMetrics: g.metrics,
          llmMetrics,
          prices: opts.llm.prices,
        }),
        metrics: llmMetrics,
        failures: groundingFailures(g.llmOutputs),
      }
      ;(g.details as { llmOutputs?: unknown }).llmOutputs = g.llmOutputs
    }
  } else if (opts.mode === 'llm') {
    notes.push('LLM mode without the grounding section: nothing runs through the LLM path (only grounding drafts and answers use the model)')
  }

  const metrics = results.flatMap((r) => r.metrics)
  for (const r of results) notes.push(...r.notes)
  const gate = runGate([...metrics, ...(llmReport?.metrics ?? [])], opts.thresholds, { sections, llm: Boolean(llmReport) })
  return {
    version: 1,
    generatedAt: new Date().toISOString(),
    mode: opts.mode,
    commit: gitCommit(),
    thresholdsVersion: opts.thresholds.version,
    embedder: opts.embedder.id,
    sections,
    durationMs: Math.round(performance.now() - t0),
    timingsMs,
    metrics,
    gate,
    failures: results.flatMap((r) => r.failures),
    notes,
    ...(llmReport && { llm: llmReport }),
    details: Object.fromEntries(results.map((r) => [r.section, r.details])),
  }
}
